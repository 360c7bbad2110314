-- The funnel marketing and sales agree to share, by month and first-touch channel. Each stage is
-- counted in the month it happened (visitors in the month of their first visit, leads when
-- created, MQL/SQL when reached, opportunities when created, customers when won), so the
-- conversion rates are ratios of one month's stage counts. A deal whose contacts came through
-- several channels counts once in each.
with

contacts as (

    select * from {{ ref('int_contact_first_touch_channels') }}

),

first_visits as (

    select distinct on (visitor_id) visitor_id, first_action_at, channel
    from {{ ref('int_visits_channeled') }}
    order by visitor_id, first_action_at, visit_id

),

deal_channels as (

    select distinct
        outcomes.deal_id,
        outcomes.outcome,
        outcomes.amount,
        outcomes.created_at,
        outcomes.closed_at,
        contacts.first_touch_channel as channel,
        contacts.lead_created_at
    from {{ ref('int_deal_outcomes') }} as outcomes
    inner join {{ ref('stg_hubspot__deal_contacts') }} as deal_contacts
        on outcomes.deal_id = deal_contacts.deal_id
    inner join contacts on deal_contacts.contact_id = contacts.contact_id

),

influenced as (

    -- Won deals with at least one web touch of the channel in their attribution journey.
    select distinct attribution.deal_id, attribution.channel, outcomes.amount, outcomes.closed_at
    from {{ ref('fct_attribution') }} as attribution
    inner join {{ ref('int_deal_outcomes') }} as outcomes on attribution.deal_id = outcomes.deal_id
    where attribution.attribution_model = 'linear' and attribution.channel <> 'offline'

),

events as (

    select date_trunc('month', first_action_at)::date as month, channel, 'visitor' as stage,
        null::numeric as amount, null::numeric as cycle_days
    from first_visits
    union all
    select date_trunc('month', lead_created_at)::date, first_touch_channel, 'lead', null::numeric, null::numeric
    from contacts
    union all
    select date_trunc('month', became_mql_at)::date, first_touch_channel, 'mql', null::numeric, null::numeric
    from contacts where became_mql_at is not null
    union all
    select date_trunc('month', became_sql_at)::date, first_touch_channel, 'sql', null::numeric, null::numeric
    from contacts where became_sql_at is not null
    union all
    select distinct date_trunc('month', created_at)::date, channel, 'opportunity:' || deal_id,
        null::numeric, null::numeric
    from deal_channels
    union all
    select date_trunc('month', closed_at)::date, channel, 'customer:' || deal_id, max(amount),
        avg(extract(epoch from (closed_at - lead_created_at)) / 86400.0)
    from deal_channels where outcome = 'won'
    group by 1, 2, 3
    union all
    select date_trunc('month', closed_at)::date, channel, 'influenced:' || deal_id, amount, null::numeric
    from influenced

),

monthly as (

    select
        month,
        channel,
        count(*) filter (where stage = 'visitor') as visitors,
        count(*) filter (where stage = 'lead') as leads,
        count(*) filter (where stage = 'mql') as mqls,
        count(*) filter (where stage = 'sql') as sqls,
        count(*) filter (where stage like 'opportunity:%') as opportunities,
        count(*) filter (where stage like 'customer:%') as customers,
        coalesce(sum(amount) filter (where stage like 'influenced:%'), 0) as influenced_revenue,
        coalesce(sum(amount) filter (where stage like 'customer:%'), 0) as won_revenue,
        avg(amount) filter (where stage like 'customer:%') as average_deal_size,
        avg(cycle_days) filter (where stage like 'customer:%') as sales_cycle_days
    from events
    group by 1, 2

)

select
    month || '-' || channel as funnel_month_id,
    month,
    channel,
    visitors::bigint as visitors,
    leads::bigint as leads,
    mqls::bigint as mqls,
    sqls::bigint as sqls,
    opportunities::bigint as opportunities,
    customers::bigint as customers,
    (leads::numeric / nullif(visitors, 0))::numeric(10, 4) as visitor_to_lead_rate,
    (mqls::numeric / nullif(leads, 0))::numeric(10, 4) as lead_to_mql_rate,
    (sqls::numeric / nullif(mqls, 0))::numeric(10, 4) as mql_to_sql_rate,
    (opportunities::numeric / nullif(sqls, 0))::numeric(10, 4) as sql_to_opportunity_rate,
    (customers::numeric / nullif(opportunities, 0))::numeric(10, 4) as opportunity_to_customer_rate,
    won_revenue::numeric(18, 2) as won_revenue,
    influenced_revenue::numeric(18, 2) as influenced_revenue,
    average_deal_size::numeric(18, 2) as average_deal_size,
    sales_cycle_days::numeric(10, 1) as sales_cycle_days
from monthly
