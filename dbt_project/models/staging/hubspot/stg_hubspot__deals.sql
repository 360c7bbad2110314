with

source as (

    select * from {{ source('hubspot', 'hubspot_deals') }}

),

renamed as (

    select
        ---------- ids
        record_id as deal_id,
        payload -> 'properties' ->> 'pipeline' as pipeline_id,
        payload -> 'properties' ->> 'dealstage' as deal_stage_id,

        ---------- strings
        payload -> 'properties' ->> 'dealname' as deal_name,
        payload -> 'properties' ->> 'deal_currency_code' as currency_code,
        payload -> 'properties' ->> 'closed_lost_reason' as closed_lost_reason,

        ---------- booleans
        coalesce((payload ->> 'archived')::boolean, false) as is_archived,

        ---------- numerics
        nullif(payload -> 'properties' ->> 'amount', '')::numeric(18, 2) as amount,

        ---------- timestamps
        (payload -> 'properties' ->> 'createdate')::timestamptz as created_at,
        nullif(payload -> 'properties' ->> 'closedate', '')::timestamptz as closed_at

    from source

)

select * from renamed
