{%- set ts = type_timestamp_tz() -%}
with

source as (

    select * from {{ source('hubspot', 'hubspot_contacts') }}

),

renamed as (

    select
        ---------- ids
        record_id as contact_id,
        nullif({{ json_text('payload', ['properties', 'associatedcompanyid']) }}, '') as company_id,

        ---------- strings
        lower({{ json_text('payload', ['properties', 'email']) }}) as email,
        {{ json_text('payload', ['properties', 'firstname']) }} as first_name,
        {{ json_text('payload', ['properties', 'lastname']) }} as last_name,
        {{ json_text('payload', ['properties', 'lifecyclestage']) }} as lifecycle_stage,
        {{ json_text('payload', ['properties', 'hs_lead_status']) }} as lead_status,
        {{ json_text('payload', ['properties', 'jobtitle']) }} as job_title,
        nullif({{ json_text('payload', ['properties', 'disqualification_reason']) }}, '')
            as disqualification_reason,

        ---------- booleans
        coalesce(cast({{ json_text('payload', ['archived']) }} as boolean), false) as is_archived,

        ---------- timestamps
        cast({{ json_text('payload', ['properties', 'createdate']) }} as {{ ts }}) as created_at,
        cast({{ json_text('payload', ['updatedAt']) }} as {{ ts }}) as updated_at,
        cast(nullif(
            {{ json_text('payload', ['properties', 'hs_lifecyclestage_marketingqualifiedlead_date']) }},
            ''
        ) as {{ ts }}) as became_mql_at,
        cast(nullif(
            {{ json_text('payload', ['properties', 'hs_lifecyclestage_salesqualifiedlead_date']) }},
            ''
        ) as {{ ts }}) as became_sql_at

    from source

)

select * from renamed
