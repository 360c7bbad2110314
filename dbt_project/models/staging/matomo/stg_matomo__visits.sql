with

source as (

    select * from {{ source('matomo', 'matomo_visits') }}

),

renamed as (

    select
        ---------- ids
        record_id as visit_id,
        {{ json_text('payload', ['visitorId']) }} as visitor_id,
        nullif({{ json_text('payload', ['userId']) }}, '') as user_id,

        ---------- strings
        lower(nullif({{ json_text('payload', ['referrerType']) }}, '')) as referrer_type,
        nullif({{ json_text('payload', ['referrerName']) }}, '') as referrer_name,
        nullif({{ json_text('payload', ['referrerUrl']) }}, '') as referrer_url,
        nullif({{ json_text('payload', ['referrerKeyword']) }}, '') as referrer_keyword,
        lower(nullif({{ json_text('payload', ['campaignName']) }}, '')) as campaign_name,
        lower(nullif({{ json_text('payload', ['campaignSource']) }}, '')) as campaign_source,
        lower(nullif({{ json_text('payload', ['campaignMedium']) }}, '')) as campaign_medium,
        nullif({{ json_text('payload', ['campaignKeyword']) }}, '') as campaign_keyword,
        nullif({{ json_text('payload', ['campaignContent']) }}, '') as campaign_content,

        ---------- numerics
        cast({{ json_text('payload', ['actions']) }} as integer) as action_count,

        ---------- semi-structured
        {{ json_value('payload', ['actionDetails']) }} as action_details,

        ---------- dates
        partition_date as visit_date,

        ---------- timestamps
        {{ from_unix_seconds(
            "cast(" ~ json_text('payload', ['firstActionTimestamp']) ~ " as bigint)") }}
            as first_action_at,
        {{ from_unix_seconds(
            "cast(" ~ json_text('payload', ['serverTimestamp']) ~ " as bigint)") }}
            as last_action_at

    from source

)

select * from renamed
