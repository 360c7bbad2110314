-- Every visit with its pageviews of pricing and demo pages, the intent signal of the lead score.
-- Incremental like int_visits_channeled: a night parses only the days it may have reloaded, so
-- the visits' action lists (the largest JSON in raw) are read once rather than every night.
{{ config(
    materialized='incremental',
    unique_key='visit_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

visits as (

    select visit_id, visitor_id, visit_date, action_details
    from {{ ref('stg_matomo__visits') }}
    {{ reloaded_days_only('visit_date') }}

),

intent as (

    select
        visits.visit_id,
        count(case
            when {{ json_text('action', ['url']) }} like '%/pricing%'
                or {{ json_text('action', ['url']) }} like '%/demo%'
            then 1
        end) as intent_pageviews
    from visits
    {{ json_array_rows('visits.action_details', 'action') }}
    group by visits.visit_id

)

select
    visits.visit_id,
    visits.visitor_id,
    visits.visit_date,
    cast(coalesce(intent.intent_pageviews, 0) as integer) as intent_pageviews
from visits
left join intent on visits.visit_id = intent.visit_id
