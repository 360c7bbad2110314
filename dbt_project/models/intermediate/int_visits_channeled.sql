-- Every visit with the marketing channel it counts under, from the editable channel_mapping seed:
-- an exact (referrer type, medium) row wins over the referrer type's `*` row.
-- Incremental: a night re-reads the days it may have reloaded (`incremental_reload_days`);
-- after editing channel_mapping, run with --full-refresh.
{{ config(
    materialized='incremental',
    unique_key='visit_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

with

visits as (

    select * from {{ ref('stg_matomo__visits') }}
    {{ reloaded_days_only('visit_date') }}

),

mapping as (

    select * from {{ ref('channel_mapping') }}

),

candidates as (

    select
        visits.visit_id,
        mapping.channel,
        row_number() over (
            partition by visits.visit_id
            order by case when mapping.campaign_medium = '*' then 1 else 0 end
        ) as preference
    from visits
    inner join mapping
        on visits.referrer_type = mapping.referrer_type
        and (mapping.campaign_medium = coalesce(visits.campaign_medium, '')
             or mapping.campaign_medium = '*')

)

select
    visits.*,
    coalesce(candidates.channel, 'other') as channel,
    -- What a touch is reported as: the campaign's source and medium, or else where the visit
    -- came from (google, g2.com... and search, website...).
    coalesce(visits.campaign_source, lower(visits.referrer_name)) as touch_source,
    coalesce(visits.campaign_medium, visits.referrer_type) as touch_medium
from visits
left join candidates
    on visits.visit_id = candidates.visit_id
    and candidates.preference = 1
