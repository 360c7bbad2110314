-- Sales' verdict on marketing's leads, by first-touch channel and campaign: how many leads got
-- each lead status and disqualification reason, and why their deals were lost. One row per
-- segment and verdict, with the verdict's share of the segment's leads (or lost deals).
with

leads as (

    select
        contact_id,
        first_touch_channel as channel,
        coalesce(first_touch_campaign, '(none)') as campaign,
        coalesce(lead_status, '(not set)') as lead_status,
        disqualification_reason
    from {{ ref('int_contact_first_touch_channels') }}

),

lost_deals as (

    select distinct
        leads.channel,
        leads.campaign,
        outcomes.deal_id,
        coalesce(outcomes.closed_lost_reason, '(not given)') as closed_lost_reason
    from {{ ref('int_deal_outcomes') }} as outcomes
    inner join {{ ref('stg_hubspot__deal_contacts') }} as deal_contacts
        on outcomes.deal_id = deal_contacts.deal_id
    inner join leads on deal_contacts.contact_id = leads.contact_id
    where outcomes.outcome = 'lost'

),

verdicts as (

    select channel, campaign, 'lead_status' as verdict_type, lead_status as verdict,
        count(*) as records
    from leads group by 1, 2, 3, 4
    union all
    select channel, campaign, 'disqualification_reason', disqualification_reason, count(*)
    from leads where disqualification_reason is not null group by 1, 2, 3, 4
    union all
    select channel, campaign, 'closed_lost_reason', closed_lost_reason, count(*)
    from lost_deals group by 1, 2, 3, 4

),

segments as (

    select channel, campaign, count(*) as leads from leads group by 1, 2

),

lost_segments as (

    select channel, campaign, count(*) as lost_deals from lost_deals group by 1, 2

)

select
    {{ dbt.concat([
        'verdicts.channel', "'|'", 'verdicts.campaign', "'|'", 'verdicts.verdict_type', "'|'",
        'verdicts.verdict'
    ]) }} as feedback_id,
    verdicts.channel,
    verdicts.campaign,
    verdicts.verdict_type,
    verdicts.verdict,
    verdicts.verdict in ('UNQUALIFIED', 'BAD_TIMING') or verdicts.verdict_type <> 'lead_status'
        as is_rejection,
    cast(verdicts.records as bigint) as records,
    cast(segments.leads as bigint) as segment_leads,
    cast(
        cast(verdicts.records as {{ dbt.type_numeric() }}) / nullif(
            case when verdicts.verdict_type = 'closed_lost_reason' then lost_segments.lost_deals
                 else segments.leads end,
            0
        )
        as numeric(10, 4)
    ) as share_of_segment
from verdicts
inner join segments
    on verdicts.channel = segments.channel and verdicts.campaign = segments.campaign
left join lost_segments
    on verdicts.channel = lost_segments.channel and verdicts.campaign = lost_segments.campaign
