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

        ---------- booleans
        coalesce((payload ->> 'archived')::boolean, false) as is_archived,

        ---------- timestamps
        (payload -> 'properties' ->> 'createdate')::timestamptz as created_at,
        (payload ->> 'updatedAt')::timestamptz as updated_at

    from source

)

select * from renamed
