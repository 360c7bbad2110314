with

source as (

    select * from {{ source('matomo', 'matomo_visits') }}

),

renamed as (

    select
        ---------- ids
        record_id as visit_id,
        payload ->> 'visitorId' as visitor_id,
        nullif(payload ->> 'userId', '') as user_id,

        ---------- strings
        lower(nullif(payload ->> 'referrerType', '')) as referrer_type,
        nullif(payload ->> 'referrerName', '') as referrer_name,
        nullif(payload ->> 'referrerUrl', '') as referrer_url,
        nullif(payload ->> 'referrerKeyword', '') as referrer_keyword,
        lower(nullif(payload ->> 'campaignName', '')) as campaign_name,
        lower(nullif(payload ->> 'campaignSource', '')) as campaign_source,
        lower(nullif(payload ->> 'campaignMedium', '')) as campaign_medium,
        nullif(payload ->> 'campaignKeyword', '') as campaign_keyword,
        nullif(payload ->> 'campaignContent', '') as campaign_content,

        ---------- numerics
        (payload ->> 'actions')::integer as action_count,

        ---------- semi-structured
        payload -> 'actionDetails' as action_details,

        ---------- dates
        partition_date as visit_date,

        ---------- timestamps
        to_timestamp((payload ->> 'firstActionTimestamp')::bigint) as first_action_at,
        to_timestamp((payload ->> 'serverTimestamp')::bigint) as last_action_at

    from source

)

select * from renamed
