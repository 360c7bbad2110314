-- The touches that earn credit for a closed-won deal: for each of the deal's contacts, the visits
-- of all their stitched devices from `attribution_lookback_days` before the lead was created up to
-- the opportunity's creation, with the roles the W-shaped model needs. A contact without any such
-- touch gets one `offline` touch so that their share of the revenue is still attributed.
with

revenue as (

    select * from {{ ref('int_won_revenue_split') }}

),

deals as (

    select deal_id, created_at as opportunity_created_at from {{ ref('int_deal_outcomes') }}

),

contacts as (

    select contact_id, created_at as lead_created_at from {{ ref('stg_hubspot__contacts') }}

),

stitched as (

    select * from {{ ref('int_visitors_stitched') }}

),

visits as (

    select * from {{ ref('int_visits_channeled') }}

),

deal_contacts as (

    select
        revenue.deal_id,
        revenue.contact_id,
        revenue.revenue as contact_revenue,
        revenue.revenue / nullif(revenue.deal_amount, 0) as contact_share,
        contacts.lead_created_at,
        greatest(deals.opportunity_created_at, contacts.lead_created_at) as opportunity_created_at
    from revenue
    inner join deals on revenue.deal_id = deals.deal_id
    left join contacts on revenue.contact_id = contacts.contact_id

),

web_touches as (

    select
        deal_contacts.deal_id,
        deal_contacts.contact_id,
        visits.visit_id,
        visits.first_action_at as touched_at,
        visits.channel,
        visits.touch_source,
        visits.touch_medium,
        visits.campaign_name as touch_campaign
    from deal_contacts
    inner join stitched on deal_contacts.contact_id = stitched.contact_id
    inner join visits on stitched.visitor_id = visits.visitor_id
    where visits.first_action_at >= {{ dbt.dateadd(
            'day', -var('attribution_lookback_days'), 'deal_contacts.lead_created_at') }}
        and visits.first_action_at < deal_contacts.opportunity_created_at

),

all_touches as (

    select * from web_touches
    union all
    select
        deal_id, contact_id, null, cast(null as {{ type_timestamp_tz() }}), 'offline', null, null,
        null
    from deal_contacts
    where not exists (
        select 1 from web_touches
        where web_touches.deal_id = deal_contacts.deal_id
            and web_touches.contact_id is not distinct from deal_contacts.contact_id
    )

),

numbered as (

    select
        all_touches.*,
        deal_contacts.contact_revenue,
        deal_contacts.contact_share,
        deal_contacts.lead_created_at,
        deal_contacts.opportunity_created_at,
        row_number() over (
            partition by all_touches.deal_id, all_touches.contact_id
            order by all_touches.touched_at, all_touches.visit_id
        ) as touch_number,
        count(*) over (partition by all_touches.deal_id, all_touches.contact_id) as touch_count,
        count(case when all_touches.touched_at < deal_contacts.lead_created_at then 1 end)
            over (partition by all_touches.deal_id, all_touches.contact_id) as touches_before_lead
    from all_touches
    inner join deal_contacts
        on all_touches.deal_id = deal_contacts.deal_id
        and all_touches.contact_id is not distinct from deal_contacts.contact_id

),

journeys as (

    select
        {{ dbt.concat([
            'deal_id', "'-'", "coalesce(contact_id, 'none')", "'-'", "coalesce(visit_id, 'offline')"
        ]) }} as deal_touch_id,
        deal_id,
        contact_id,
        visit_id,
        touched_at,
        channel,
        touch_source,
        touch_medium,
        touch_campaign,
        contact_revenue,
        contact_share,
        lead_created_at,
        opportunity_created_at,
        touch_number,
        touch_count,
        -- W-shaped roles: the first touch, the last touch before the lead was created, and the
        -- last touch before the opportunity was created (one touch can hold several roles).
        touch_number = 1 as is_first_touch,
        touches_before_lead > 0 and touch_number = touches_before_lead as is_lead_creation_touch,
        touch_number = touch_count as is_opportunity_creation_touch,
        {{ seconds_between('touched_at', 'opportunity_created_at') }} / 86400.0
            as days_before_opportunity
    from numbered

),

fingerprints as (

    -- Everything the deal's credits depend on, hashed: fct_attribution rebuilds a deal only when
    -- this changes.
    select
        deal_id,
        {{ dbt.hash(dbt.listagg(
            "concat_ws('|', deal_touch_id, touched_at, channel, touch_source, touch_medium,
                touch_campaign, contact_revenue, contact_share, touch_number, touch_count,
                lead_created_at, opportunity_created_at, is_lead_creation_touch)",
            "','",
            'order by deal_touch_id'
        )) }} as deal_fingerprint
    from journeys
    group by deal_id

)

select journeys.*, fingerprints.deal_fingerprint
from journeys
inner join fingerprints on journeys.deal_id = fingerprints.deal_id
