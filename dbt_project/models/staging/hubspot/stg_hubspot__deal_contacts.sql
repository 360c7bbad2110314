-- The deal-to-contact associations that arrive inside each deal object.
with

source as (

    select * from {{ source('hubspot', 'hubspot_deals') }}

),

renamed as (

    select
        ---------- ids
        source.record_id as deal_id,
        {{ json_text('association', ['id']) }} as contact_id,

        ---------- strings
        {{ json_text('association', ['type']) }} as association_type

    from source
    {{ json_array_rows(
        json_value('source.payload', ['associations', 'contacts', 'results']), 'association') }}

)

select * from renamed
