with

source as (

    select * from {{ source('hubspot', 'hubspot_companies') }}

),

renamed as (

    select
        ---------- ids
        record_id as company_id,

        ---------- strings
        {{ json_text('payload', ['properties', 'name']) }} as company_name,
        lower({{ json_text('payload', ['properties', 'domain']) }}) as domain,
        lower({{ json_text('payload', ['properties', 'industry']) }}) as industry,

        ---------- numerics
        cast(nullif({{ json_text('payload', ['properties', 'numberofemployees']) }}, '') as integer)
            as employee_count,

        ---------- timestamps
        cast({{ json_text('payload', ['properties', 'createdate']) }} as {{ type_timestamp_tz() }})
            as created_at

    from source

)

select * from renamed
