-- The closed loop: one row per closed-won deal and contact, with the contact's first and last
-- touch before lead creation (stitched across all their devices), their share of the revenue, and
-- the credit each attribution model gives those two touches for this deal (0 when a touch is
-- outside the model's lookback window). A won deal whose contact never touched the website keeps
-- its revenue under the channel `offline`.
with

revenue as (

    select * from {{ ref('int_won_revenue_split') }}

),

first_touches as (

    select * from {{ ref('int_contact_touches') }} where touch_number = 1

),

last_touches as (

    select * from {{ ref('int_contact_touches') }} where touch_number = touch_count

),

credits as (

    select
        deal_id,
        contact_id,
        visit_id,
        {% for model in attribution_models() %}
        max(case when attribution_model = '{{ model }}' then credit end) as credit_{{ model }}
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from {{ ref('fct_attribution') }}
    where visit_id is not null
    group by deal_id, contact_id, visit_id

),

contacts as (

    select contact_id, created_at from {{ ref('stg_hubspot__contacts') }}

)

select
    {{ dbt.concat(['revenue.deal_id', "'-'", "coalesce(revenue.contact_id, 'none')"]) }}
        as attribution_id,
    revenue.deal_id,
    revenue.contact_id,
    first_touches.touched_at as first_touch_at,
    coalesce(first_touches.channel, 'offline') as first_touch_channel,
    first_touches.touch_source as first_touch_source,
    first_touches.touch_medium as first_touch_medium,
    first_touches.touch_campaign as first_touch_campaign,
    cast(coalesce(first_touches.touch_count, 0) as integer) as touches_before_lead,
    contacts.created_at as lead_created_at,
    revenue.closed_at as closed_won_at,
    cast(revenue.deal_amount as numeric(18, 2)) as deal_amount,
    cast(revenue.contact_count as integer) as deal_contact_count,
    cast(revenue.revenue as numeric(18, 2)) as revenue,
    last_touches.touched_at as last_touch_at,
    coalesce(last_touches.channel, 'offline') as last_touch_channel,
    last_touches.touch_campaign as last_touch_campaign,
    {% for model in attribution_models() %}
    cast(coalesce(first_credits.credit_{{ model }}, 0) as numeric(20, 12))
        as first_touch_credit_{{ model }},
    cast(coalesce(last_credits.credit_{{ model }}, 0) as numeric(20, 12))
        as last_touch_credit_{{ model }}{% if not loop.last %},{% endif %}
    {% endfor %}
from revenue
left join first_touches on revenue.contact_id = first_touches.contact_id
left join last_touches on revenue.contact_id = last_touches.contact_id
left join credits as first_credits
    on revenue.deal_id = first_credits.deal_id
    and revenue.contact_id = first_credits.contact_id
    and first_touches.visit_id = first_credits.visit_id
left join credits as last_credits
    on revenue.deal_id = last_credits.deal_id
    and revenue.contact_id = last_credits.contact_id
    and last_touches.visit_id = last_credits.visit_id
left join contacts on revenue.contact_id = contacts.contact_id
