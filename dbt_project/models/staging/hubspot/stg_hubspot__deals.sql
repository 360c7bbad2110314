with

source as (

    select * from {{ source('hubspot', 'hubspot_deals') }}

),

renamed as (

    select
        ---------- ids
        record_id as deal_id,
        {{ json_text('payload', ['properties', 'pipeline']) }} as pipeline_id,
        {{ json_text('payload', ['properties', 'dealstage']) }} as deal_stage_id,

        ---------- strings
        {{ json_text('payload', ['properties', 'dealname']) }} as deal_name,
        {{ json_text('payload', ['properties', 'deal_currency_code']) }} as currency_code,
        {{ json_text('payload', ['properties', 'closed_lost_reason']) }} as closed_lost_reason,

        ---------- booleans
        coalesce(cast({{ json_text('payload', ['archived']) }} as boolean), false) as is_archived,

        ---------- numerics
        cast(nullif({{ json_text('payload', ['properties', 'amount']) }}, '') as numeric(18, 2))
            as amount,

        ---------- timestamps
        cast({{ json_text('payload', ['properties', 'createdate']) }} as {{ type_timestamp_tz() }})
            as created_at,
        cast(nullif({{ json_text('payload', ['properties', 'closedate']) }}, '')
            as {{ type_timestamp_tz() }}) as closed_at

    from source

)

select * from renamed
