-- One row per contact with what the lead score learns from and whether the lead is still open
-- (no associated deal closed, won or lost). Known outcomes train the score; open leads get scored.
with

contacts as (

    select * from {{ ref('stg_hubspot__contacts') }} where not is_archived

),

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

touches as (

    select * from {{ ref('int_contact_touches') }}

),

first_touches as (

    select contact_id, channel, touch_count from touches where touch_number = 1

),

last_touches as (

    select contact_id, channel
    from touches
    where touch_number = touch_count

),

intent as (

    -- Pageviews of pricing and demo pages on any of the contact's devices, at any time.
    select stitched.contact_id, sum(visits.intent_pageviews) as intent_pageviews
    from {{ ref('int_visitors_stitched') }} as stitched
    inner join {{ ref('int_visits_intent_counted') }} as visits
        on stitched.visitor_id = visits.visitor_id
    group by stitched.contact_id

),

outcomes as (

    select
        deal_contacts.contact_id,
        {{ dbt.bool_or("deals.outcome = 'won'") }} as has_won_deal,
        {{ dbt.bool_or("deals.outcome in ('won', 'lost')") }} as has_closed_deal
    from {{ ref('stg_hubspot__deal_contacts') }} as deal_contacts
    inner join {{ ref('int_deal_outcomes') }} as deals on deal_contacts.deal_id = deals.deal_id
    group by deal_contacts.contact_id

),

as_of as (

    -- The newest lead in the data: ages are measured from it, so a rebuild gives the same rows.
    select max(created_at) as as_of from contacts

)

select
    contacts.contact_id,
    contacts.created_at as lead_created_at,
    coalesce(first_touches.channel, 'offline') as first_touch_channel,
    coalesce(last_touches.channel, 'offline') as last_touch_channel,
    cast(coalesce(first_touches.touch_count, 0) as integer) as touches_before_lead,
    cast(coalesce(intent.intent_pageviews, 0) as integer) as intent_pageviews,
    companies.employee_count,
    companies.industry,
    cast({{ seconds_between('contacts.created_at', 'as_of.as_of') }} / 86400 as integer)
        as days_since_lead,
    case
        when outcomes.has_won_deal then 'won'
        when outcomes.has_closed_deal then 'lost'
        when outcomes.contact_id is null
            and contacts.created_at < {{ dbt.dateadd('day', -var('lead_aging_days'), 'as_of.as_of') }}
            then 'aged_out'
        else 'open'
    end as outcome,
    not coalesce(outcomes.has_closed_deal, false) as is_open_lead
from contacts
left join companies on contacts.company_id = companies.company_id
left join first_touches on contacts.contact_id = first_touches.contact_id
left join last_touches on contacts.contact_id = last_touches.contact_id
left join intent on contacts.contact_id = intent.contact_id
left join outcomes on contacts.contact_id = outcomes.contact_id
cross join as_of
