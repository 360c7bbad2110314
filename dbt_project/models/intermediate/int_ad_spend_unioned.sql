-- Spend, impressions and clicks of every ad platform in one shape, keyed by the campaign name
-- that the ads' tracking parameters carry into web analytics (lower-cased, as Matomo stores it).
with

google as (

    select
        platform, ad_account_id, campaign_id, campaign_name, stat_date, spend, impressions, clicks
    from {{ ref('stg_google_ads__campaign_stats') }}

),

meta as (

    select
        platform, ad_account_id, campaign_id, campaign_name, stat_date, spend, impressions, clicks
    from {{ ref('stg_meta_ads__campaign_insights') }}

),

linkedin as (

    select
        analytics.platform,
        analytics.ad_account_id,
        analytics.campaign_id,
        campaigns.campaign_name,
        analytics.stat_date,
        analytics.spend,
        analytics.impressions,
        analytics.clicks
    from {{ ref('stg_linkedin_ads__campaign_analytics') }} as analytics
    left join {{ ref('stg_linkedin_ads__campaigns') }} as campaigns
        on analytics.campaign_id = campaigns.campaign_id

),

unioned as (

    select * from google
    union all
    select * from meta
    union all
    select * from linkedin

)

select
    {{ dbt.concat([
        'platform', "':'", 'campaign_id', "':'", 'cast(stat_date as ' ~ dbt.type_string() ~ ')'
    ]) }} as ad_spend_id,
    unioned.*,
    lower(campaign_name) as campaign_key
from unioned
