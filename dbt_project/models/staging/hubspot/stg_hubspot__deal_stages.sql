-- One row per stage of every deal pipeline, from the pipelines API.
with

source as (

    select * from {{ source('hubspot', 'hubspot_deal_pipelines') }}

),

renamed as (

    select
        ---------- ids
        source.record_id as pipeline_id,
        stage ->> 'id' as deal_stage_id,

        ---------- strings
        source.payload ->> 'label' as pipeline_label,
        stage ->> 'label' as deal_stage_label,

        ---------- numerics
        (stage ->> 'displayOrder')::integer as display_order,
        nullif(stage -> 'metadata' ->> 'probability', '')::numeric as win_probability,

        ---------- booleans
        coalesce((stage -> 'metadata' ->> 'isClosed')::boolean, false) as is_closed

    from source
    cross join lateral jsonb_array_elements(source.payload -> 'stages') as stage

)

select * from renamed
