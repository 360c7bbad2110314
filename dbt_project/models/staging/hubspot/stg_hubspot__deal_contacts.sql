-- The deal-to-contact associations that arrive inside each deal object.
with

source as (

    select * from {{ source('hubspot', 'hubspot_deals') }}

),

renamed as (

    select
        ---------- ids
        source.record_id as deal_id,
        association ->> 'id' as contact_id,

        ---------- strings
        association ->> 'type' as association_type

    from source
    cross join lateral jsonb_array_elements(
        coalesce(source.payload -> 'associations' -> 'contacts' -> 'results', '[]'::jsonb)
    ) as association

)

select * from renamed
