with

source as (

    select * from {{ source('meta_ads', 'meta_ads_campaign_insights') }}

),

renamed as (

    select
        ---------- ids
        record_id as campaign_stat_id,
        payload ->> 'campaign_id' as campaign_id,

        ---------- strings
        'meta_ads' as platform,
        payload ->> 'campaign_name' as campaign_name,

        ---------- numerics
        (payload ->> 'spend')::numeric(18, 2) as spend,
        (payload ->> 'impressions')::bigint as impressions,
        (payload ->> 'clicks')::bigint as clicks,

        ---------- dates
        (payload ->> 'date_start')::date as stat_date

    from source

)

select * from renamed
