-- Platform x campaign x day: what the ads cost and what their clicks became. Ad spend joins web
-- analytics through the campaign name the ads' tracking parameters carry. Everything after the
-- spend is counted as a cohort of that day's clicks: sessions started that day from the
-- campaign, leads whose first touch was such a session, and so on down to the revenue each
-- attribution model credits to those touches.
with

spend as (

    select * from {{ ref('int_ad_spend_unioned') }}

),

sessions as (

    select
        campaign_name as campaign_key,
        cast(first_action_at as date) as touch_date,
        count(*) as sessions
    from {{ ref('int_visits_channeled') }}
    where campaign_name is not null
    group by 1, 2

),

first_touch_leads as (

    select
        touches.contact_id,
        touches.touch_campaign as campaign_key,
        cast(touches.touched_at as date) as touch_date,
        contacts.became_mql_at,
        contacts.became_sql_at
    from {{ ref('int_contact_touches') }} as touches
    inner join {{ ref('stg_hubspot__contacts') }} as contacts
        on touches.contact_id = contacts.contact_id
    where touches.touch_number = 1 and touches.touch_campaign is not null

),

leads as (

    select
        campaign_key,
        touch_date,
        count(*) as leads,
        count(became_mql_at) as mqls,
        count(became_sql_at) as sqls
    from first_touch_leads
    group by 1, 2

),

deals as (

    select
        first_touch_leads.campaign_key,
        first_touch_leads.touch_date,
        count(distinct outcomes.deal_id) as opportunities,
        count(distinct case when outcomes.outcome = 'won' then outcomes.deal_id end) as customers,
        -- Each contact's share of the deal, fixed at 6 decimals so that every warehouse sums
        -- the same numbers (DuckDB divides decimals as doubles).
        sum(cast(outcomes.amount / contact_counts.contact_count as numeric(18, 6)))
            as pipeline_amount
    from first_touch_leads
    inner join {{ ref('stg_hubspot__deal_contacts') }} as deal_contacts
        on first_touch_leads.contact_id = deal_contacts.contact_id
    inner join {{ ref('int_deal_outcomes') }} as outcomes
        on deal_contacts.deal_id = outcomes.deal_id
    inner join (
        select deal_id, count(*) as contact_count
        from {{ ref('stg_hubspot__deal_contacts') }}
        group by 1
    ) as contact_counts on outcomes.deal_id = contact_counts.deal_id
    group by 1, 2

),

won_revenue as (

    select
        touch_campaign as campaign_key,
        cast(touched_at as date) as touch_date,
        {% for model in attribution_models() %}
        sum(case when attribution_model = '{{ model }}' then attributed_revenue end)
            as won_revenue_{{ model }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from {{ ref('fct_attribution') }}
    where touch_campaign is not null
    group by 1, 2

),

joined as (

    select
        spend.ad_spend_id,
        spend.platform,
        spend.ad_account_id,
        spend.campaign_id,
        spend.campaign_name,
        spend.stat_date,
        spend.spend,
        spend.impressions,
        spend.clicks,
        coalesce(sessions.sessions, 0) as sessions,
        coalesce(leads.leads, 0) as leads,
        coalesce(leads.mqls, 0) as mqls,
        coalesce(leads.sqls, 0) as sqls,
        coalesce(deals.opportunities, 0) as opportunities,
        coalesce(deals.customers, 0) as customers,
        coalesce(deals.pipeline_amount, 0) as pipeline_amount,
        {% for model in attribution_models() %}
        coalesce(won_revenue.won_revenue_{{ model }}, 0) as won_revenue_{{ model }}
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from spend
    left join sessions
        on spend.campaign_key = sessions.campaign_key and spend.stat_date = sessions.touch_date
    left join leads
        on spend.campaign_key = leads.campaign_key and spend.stat_date = leads.touch_date
    left join deals
        on spend.campaign_key = deals.campaign_key and spend.stat_date = deals.touch_date
    left join won_revenue
        on spend.campaign_key = won_revenue.campaign_key
        and spend.stat_date = won_revenue.touch_date

)

select
    ad_spend_id,
    platform,
    ad_account_id,
    campaign_id,
    campaign_name,
    stat_date,
    cast(spend as numeric(18, 2)) as spend,
    cast(impressions as bigint) as impressions,
    cast(clicks as bigint) as clicks,
    cast(sessions as bigint) as sessions,
    cast(leads as bigint) as leads,
    cast(mqls as bigint) as mqls,
    cast(sqls as bigint) as sqls,
    cast(opportunities as bigint) as opportunities,
    cast(customers as bigint) as customers,
    cast(pipeline_amount as numeric(18, 2)) as pipeline_amount,
    {% for model in attribution_models() %}
    cast(won_revenue_{{ model }} as numeric(18, 2)) as won_revenue_{{ model }},
    {% endfor %}
    cast(spend / nullif(leads, 0) as numeric(18, 2)) as cost_per_lead,
    cast(spend / nullif(customers, 0) as numeric(18, 2)) as customer_acquisition_cost,
    cast(won_revenue_linear / nullif(spend, 0) as numeric(18, 4)) as return_on_ad_spend
from joined
