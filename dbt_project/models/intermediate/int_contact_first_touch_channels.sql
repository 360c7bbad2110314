-- Every contact with the channel and campaign of their first touch (offline when they never
-- touched the website before becoming a lead), and their lifecycle dates.
select
    contacts.contact_id,
    contacts.created_at as lead_created_at,
    contacts.became_mql_at,
    contacts.became_sql_at,
    contacts.lead_status,
    contacts.disqualification_reason,
    coalesce(first_touches.channel, 'offline') as first_touch_channel,
    first_touches.touch_campaign as first_touch_campaign
from {{ ref('stg_hubspot__contacts') }} as contacts
left join {{ ref('int_contact_touches') }} as first_touches
    on contacts.contact_id = first_touches.contact_id
    and first_touches.touch_number = 1
where not contacts.is_archived
