-- A contact's touches: all visits of all their stitched visitor ids before the lead was created,
-- numbered from the first touch.
with

stitched as (

    select * from {{ ref('int_visitors_stitched') }}

),

visits as (

    select * from {{ ref('int_visits_channeled') }}

),

contacts as (

    select contact_id, created_at from {{ ref('stg_hubspot__contacts') }}

)

select
    stitched.contact_id,
    visits.visit_id,
    visits.visitor_id,
    visits.first_action_at as touched_at,
    visits.channel,
    visits.touch_source,
    visits.touch_medium,
    visits.campaign_name as touch_campaign,
    row_number() over (
        partition by stitched.contact_id
        order by visits.first_action_at, visits.visitor_id, visits.visit_id
    ) as touch_number,
    count(*) over (partition by stitched.contact_id) as touch_count
from stitched
inner join visits on stitched.visitor_id = visits.visitor_id
inner join contacts on stitched.contact_id = contacts.contact_id
where visits.first_action_at < contacts.created_at
