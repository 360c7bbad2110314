with

source as (

    select * from {{ source('google_ads', 'google_ads_campaign_stats') }}

),

renamed as (

    select
        ---------- ids
        record_id as campaign_stat_id,
        {{ json_text('payload', ['campaign', 'id']) }} as campaign_id,
        account_id as ad_account_id,

        ---------- strings
        'google_ads' as platform,
        {{ json_text('payload', ['campaign', 'name']) }} as campaign_name,

        ---------- numerics
        -- Google Ads reports money in micros of the account currency. Multiplying keeps the
        -- decimal exact where dividing would not (DuckDB divides decimals as doubles).
        cast(
            cast({{ json_text('payload', ['metrics', 'costMicros']) }} as numeric(24, 0)) * 0.000001
            as numeric(18, 2)
        ) as spend,
        cast({{ json_text('payload', ['metrics', 'impressions']) }} as bigint) as impressions,
        cast({{ json_text('payload', ['metrics', 'clicks']) }} as bigint) as clicks,

        ---------- dates
        cast({{ json_text('payload', ['segments', 'date']) }} as date) as stat_date

    from source

)

select * from renamed
