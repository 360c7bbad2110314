with

source as (

    select * from {{ source('linkedin_ads', 'linkedin_ads_campaigns') }}

),

renamed as (

    select
        ---------- ids
        record_id as campaign_id,
        account_id as ad_account_id,

        ---------- strings
        {{ json_text('payload', ['name']) }} as campaign_name,
        {{ json_text('payload', ['status']) }} as campaign_status

    from source

)

select * from renamed
