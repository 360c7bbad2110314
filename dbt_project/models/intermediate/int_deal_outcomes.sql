-- Each live deal with its outcome from the pipeline's stage metadata (closed won = closed with
-- probability 1, closed lost = closed otherwise). Deals deleted in the CRM count nowhere.
with

deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

stages as (

    select * from {{ ref('stg_hubspot__deal_stages') }}

)

select
    deals.*,
    case
        when stages.is_closed and stages.win_probability = 1 then 'won'
        when stages.is_closed then 'lost'
        else 'open'
    end as outcome
from deals
left join stages
    on deals.pipeline_id = stages.pipeline_id
    and deals.deal_stage_id = stages.deal_stage_id
where not deals.is_archived
