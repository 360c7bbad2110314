with

source as (

    select * from {{ source('linkedin_ads', 'linkedin_ads_campaign_analytics') }}

),

renamed as (

    select
        ---------- ids
        record_id as campaign_stat_id,
        -- The pivot value is the campaign's URN, urn:li:sponsoredCampaign:<id>.
        {{ dbt.split_part(json_text('payload', ['pivotValues', 0]), "':'", 4) }} as campaign_id,
        account_id as ad_account_id,

        ---------- strings
        'linkedin_ads' as platform,

        ---------- numerics
        cast({{ json_text('payload', ['costInLocalCurrency']) }} as numeric(18, 2)) as spend,
        cast({{ json_text('payload', ['impressions']) }} as bigint) as impressions,
        cast({{ json_text('payload', ['clicks']) }} as bigint) as clicks,

        ---------- dates
        {{ date_from_parts(
            "cast(" ~ json_text('payload', ['dateRange', 'start', 'year']) ~ " as integer)",
            "cast(" ~ json_text('payload', ['dateRange', 'start', 'month']) ~ " as integer)",
            "cast(" ~ json_text('payload', ['dateRange', 'start', 'day']) ~ " as integer)",
        ) }} as stat_date

    from source

)

select * from renamed
