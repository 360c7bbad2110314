with

source as (

    select * from {{ source('hubspot', 'hubspot_contacts') }}

),

renamed as (

    select
        ---------- ids
        record_id as contact_id,
        nullif(payload -> 'properties' ->> 'associatedcompanyid', '') as company_id,

        ---------- strings
        lower(payload -> 'properties' ->> 'email') as email,
        payload -> 'properties' ->> 'firstname' as first_name,
        payload -> 'properties' ->> 'lastname' as last_name,
        payload -> 'properties' ->> 'lifecyclestage' as lifecycle_stage,
        payload -> 'properties' ->> 'hs_lead_status' as lead_status,
        payload -> 'properties' ->> 'jobtitle' as job_title,
        nullif(payload -> 'properties' ->> 'disqualification_reason', '') as disqualification_reason,

        ---------- booleans
        coalesce((payload ->> 'archived')::boolean, false) as is_archived,

        ---------- timestamps
        (payload -> 'properties' ->> 'createdate')::timestamptz as created_at,
        (payload ->> 'updatedAt')::timestamptz as updated_at,
        nullif(payload -> 'properties' ->> 'hs_lifecyclestage_marketingqualifiedlead_date', '')
            ::timestamptz as became_mql_at,
        nullif(payload -> 'properties' ->> 'hs_lifecyclestage_salesqualifiedlead_date', '')
            ::timestamptz as became_sql_at

    from source

)

select * from renamed
