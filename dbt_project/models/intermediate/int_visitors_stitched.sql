-- Identity stitching: every visitor id (device) that ever carried a contact's userId belongs to
-- that contact. The site sets userId to the email from the form fill (or to the CRM id).
with

visits as (

    -- From the channeled visits (a table) rather than the staging view: no JSON to parse.
    select visitor_id, user_id from {{ ref('int_visits_channeled') }} where user_id is not null

),

contacts as (

    select contact_id, email from {{ ref('stg_hubspot__contacts') }}

)

-- Two equality joins rather than one join on "a or b": an "or" rules out hash joins and
-- compares every visit with every contact.
select contacts.contact_id, visits.visitor_id
from visits
inner join contacts on lower(visits.user_id) = contacts.email

union

select contacts.contact_id, visits.visitor_id
from visits
inner join contacts on visits.user_id = contacts.contact_id
