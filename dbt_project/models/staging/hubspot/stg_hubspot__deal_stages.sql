-- One row per stage of every deal pipeline, from the pipelines API.
with

source as (

    select * from {{ source('hubspot', 'hubspot_deal_pipelines') }}

),

renamed as (

    select
        ---------- ids
        source.record_id as pipeline_id,
        {{ json_text('stage', ['id']) }} as deal_stage_id,

        ---------- strings
        {{ json_text('source.payload', ['label']) }} as pipeline_label,
        {{ json_text('stage', ['label']) }} as deal_stage_label,

        ---------- numerics
        cast({{ json_text('stage', ['displayOrder']) }} as integer) as display_order,
        cast(nullif({{ json_text('stage', ['metadata', 'probability']) }}, '') as numeric(5, 4))
            as win_probability,

        ---------- booleans
        coalesce(cast({{ json_text('stage', ['metadata', 'isClosed']) }} as boolean), false)
            as is_closed

    from source
    {{ json_array_rows(json_value('source.payload', ['stages']), 'stage') }}

)

select * from renamed
