-- The closed loop: one row per closed-won deal and contact, with the contact's first touch
-- (stitched across all their devices) and their share of the revenue. A won deal whose contact
-- never touched the website keeps its revenue under the channel `offline`.
with

revenue as (

    select * from {{ ref('int_won_revenue_split') }}

),

first_touches as (

    select * from {{ ref('int_contact_touches') }} where touch_number = 1

),

contacts as (

    select contact_id, created_at from {{ ref('stg_hubspot__contacts') }}

)

select
    revenue.deal_id || '-' || coalesce(revenue.contact_id, 'none') as attribution_id,
    revenue.deal_id,
    revenue.contact_id,
    first_touches.touched_at as first_touch_at,
    coalesce(first_touches.channel, 'offline') as first_touch_channel,
    first_touches.touch_source as first_touch_source,
    first_touches.touch_medium as first_touch_medium,
    first_touches.touch_campaign as first_touch_campaign,
    coalesce(first_touches.touch_count, 0)::integer as touches_before_lead,
    contacts.created_at as lead_created_at,
    revenue.closed_at as closed_won_at,
    revenue.deal_amount::numeric(18, 2) as deal_amount,
    revenue.contact_count::integer as deal_contact_count,
    revenue.revenue::numeric(18, 2) as revenue
from revenue
left join first_touches on revenue.contact_id = first_touches.contact_id
left join contacts on revenue.contact_id = contacts.contact_id
