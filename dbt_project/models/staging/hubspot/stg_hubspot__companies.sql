with

source as (

    select * from {{ source('hubspot', 'hubspot_companies') }}

),

renamed as (

    select
        ---------- ids
        record_id as company_id,

        ---------- strings
        payload -> 'properties' ->> 'name' as company_name,
        lower(payload -> 'properties' ->> 'domain') as domain,
        lower(payload -> 'properties' ->> 'industry') as industry,

        ---------- numerics
        nullif(payload -> 'properties' ->> 'numberofemployees', '')::integer as employee_count,

        ---------- timestamps
        (payload -> 'properties' ->> 'createdate')::timestamptz as created_at

    from source

)

select * from renamed
