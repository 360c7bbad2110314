with

source as (

    select * from {{ source('meta_ads', 'meta_ads_campaign_insights') }}

),

renamed as (

    select
        ---------- ids
        record_id as campaign_stat_id,
        {{ json_text('payload', ['campaign_id']) }} as campaign_id,
        account_id as ad_account_id,

        ---------- strings
        'meta_ads' as platform,
        {{ json_text('payload', ['campaign_name']) }} as campaign_name,

        ---------- numerics
        cast({{ json_text('payload', ['spend']) }} as numeric(18, 2)) as spend,
        cast({{ json_text('payload', ['impressions']) }} as bigint) as impressions,
        cast({{ json_text('payload', ['clicks']) }} as bigint) as clicks,

        ---------- dates
        cast({{ json_text('payload', ['date_start']) }} as date) as stat_date

    from source

)

select * from renamed
