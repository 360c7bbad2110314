with

source as (

    select * from {{ source('google_ads', 'google_ads_campaign_stats') }}

),

renamed as (

    select
        ---------- ids
        record_id as campaign_stat_id,
        payload -> 'campaign' ->> 'id' as campaign_id,

        ---------- strings
        'google_ads' as platform,
        payload -> 'campaign' ->> 'name' as campaign_name,

        ---------- numerics
        -- Google Ads reports money in micros of the account currency.
        ((payload -> 'metrics' ->> 'costMicros')::numeric / 1000000)::numeric(18, 2) as spend,
        (payload -> 'metrics' ->> 'impressions')::bigint as impressions,
        (payload -> 'metrics' ->> 'clicks')::bigint as clicks,

        ---------- dates
        (payload -> 'segments' ->> 'date')::date as stat_date

    from source

)

select * from renamed
