with

source as (

    select * from {{ source('linkedin_ads', 'linkedin_ads_campaign_analytics') }}

),

renamed as (

    select
        ---------- ids
        record_id as campaign_stat_id,
        split_part(payload -> 'pivotValues' ->> 0, ':', 4) as campaign_id,

        ---------- strings
        'linkedin_ads' as platform,

        ---------- numerics
        (payload ->> 'costInLocalCurrency')::numeric(18, 2) as spend,
        (payload ->> 'impressions')::bigint as impressions,
        (payload ->> 'clicks')::bigint as clicks,

        ---------- dates
        make_date(
            (payload -> 'dateRange' -> 'start' ->> 'year')::integer,
            (payload -> 'dateRange' -> 'start' ->> 'month')::integer,
            (payload -> 'dateRange' -> 'start' ->> 'day')::integer
        ) as stat_date

    from source

)

select * from renamed
