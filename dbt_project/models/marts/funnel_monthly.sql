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

    select visitor_id, first_action_at, channel
    from (
        select
            visitor_id,
            first_action_at,
            channel,
            row_number() over (
                partition by visitor_id order by first_action_at, visit_id
            ) as visit_number
        from {{ ref('int_visits_channeled') }}
    ) as visits
    where visit_number = 1

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

    {%- set month_of = "cast(" ~ dbt.date_trunc('month', '{}') ~ " as date)" %}
    {%- set no_number = "cast(null as " ~ dbt.type_numeric() ~ ")" %}

    select {{ month_of.format('first_action_at') }} as month, channel, 'visitor' as stage,
        {{ no_number }} as amount, {{ no_number }} as cycle_days
    from first_visits
    union all
    select {{ month_of.format('lead_created_at') }}, first_touch_channel, 'lead',
        {{ no_number }}, {{ no_number }}
    from contacts
    union all
    select {{ month_of.format('became_mql_at') }}, first_touch_channel, 'mql',
        {{ no_number }}, {{ no_number }}
    from contacts where became_mql_at is not null
    union all
    select {{ month_of.format('became_sql_at') }}, first_touch_channel, 'sql',
        {{ no_number }}, {{ no_number }}
    from contacts where became_sql_at is not null
    union all
    select distinct {{ month_of.format('created_at') }}, channel,
        {{ dbt.concat(["'opportunity:'", 'deal_id']) }}, {{ no_number }}, {{ no_number }}
    from deal_channels
    union all
    select {{ month_of.format('closed_at') }}, channel, {{ dbt.concat(["'customer:'", 'deal_id']) }},
        max(amount), avg({{ seconds_between('lead_created_at', 'closed_at') }} / 86400.0)
    from deal_channels where outcome = 'won'
    group by 1, 2, 3
    union all
    select {{ month_of.format('closed_at') }}, channel,
        {{ dbt.concat(["'influenced:'", 'deal_id']) }}, amount, {{ no_number }}
    from influenced

),

monthly as (

    select
        month,
        channel,
        count(case when stage = 'visitor' then 1 end) as visitors,
        count(case when stage = 'lead' then 1 end) as leads,
        count(case when stage = 'mql' then 1 end) as mqls,
        count(case when stage = 'sql' then 1 end) as sqls,
        count(case when stage like 'opportunity:%' then 1 end) as opportunities,
        count(case when stage like 'customer:%' then 1 end) as customers,
        coalesce(sum(case when stage like 'influenced:%' then amount end), 0) as influenced_revenue,
        coalesce(sum(case when stage like 'customer:%' then amount end), 0) as won_revenue,
        avg(case when stage like 'customer:%' then amount end) as average_deal_size,
        avg(case when stage like 'customer:%' then cycle_days end) as sales_cycle_days
    from events
    group by 1, 2

)

{%- set rates = [
    ('visitor_to_lead_rate', 'leads', 'visitors'),
    ('lead_to_mql_rate', 'mqls', 'leads'),
    ('mql_to_sql_rate', 'sqls', 'mqls'),
    ('sql_to_opportunity_rate', 'opportunities', 'sqls'),
    ('opportunity_to_customer_rate', 'customers', 'opportunities'),
] %}

select
    {{ dbt.concat(['cast(month as ' ~ dbt.type_string() ~ ')', "'-'", 'channel']) }}
        as funnel_month_id,
    month,
    channel,
    cast(visitors as bigint) as visitors,
    cast(leads as bigint) as leads,
    cast(mqls as bigint) as mqls,
    cast(sqls as bigint) as sqls,
    cast(opportunities as bigint) as opportunities,
    cast(customers as bigint) as customers,
    {% for name, stage, previous_stage in rates %}
    cast(
        cast({{ stage }} as {{ dbt.type_numeric() }}) / nullif({{ previous_stage }}, 0)
        as numeric(10, 4)
    ) as {{ name }},
    {% endfor %}
    cast(won_revenue as numeric(18, 2)) as won_revenue,
    cast(influenced_revenue as numeric(18, 2)) as influenced_revenue,
    cast(average_deal_size as numeric(18, 2)) as average_deal_size,
    cast(sales_cycle_days as numeric(10, 1)) as sales_cycle_days
from monthly
