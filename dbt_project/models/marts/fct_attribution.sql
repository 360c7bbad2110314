-- One row per closed-won deal x touch x attribution model, with the touch's credit and the
-- revenue it earns. Each contact's share of the deal's revenue (int_won_revenue_split) is spread
-- over that contact's touches by the model; a touch's `credit` is its part of the whole deal, so
-- credits sum to 1 per deal and model, and attributed revenue sums to the deal's amount.
-- Incremental: only deals whose touches or revenue changed (their fingerprint) are rebuilt;
-- deals no longer won are removed. Changing the attribution vars needs --full-refresh.
{{ config(
    materialized='incremental',
    unique_key='deal_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=[
        "{% if is_incremental() %}delete from {{ this }} where deal_id not in
         (select deal_id from {{ ref('int_deal_touches') }}){% endif %}"
    ],
) }}

with

touches as (

    select * from {{ ref('int_deal_touches') }}
    {% if is_incremental() %}
    where deal_fingerprint not in (select distinct deal_fingerprint from {{ this }})
    {% endif %}

),

weighted as (

    select
        touches.*,
        case when is_first_touch then 1 else 0 end as first_touch_weight,
        case when is_opportunity_creation_touch then 1 else 0 end as last_touch_weight,
        1.0 as linear_weight,
        case
            when touch_count = 1 then 1.0
            when touch_count = 2 then 0.5
            when is_first_touch or is_opportunity_creation_touch then 0.4
            else 0.2 / (touch_count - 2)
        end as position_based_weight,
        power(
            0.5,
            coalesce(days_before_opportunity, 0) / {{ var('time_decay_half_life_days') }}
        ) as time_decay_weight,
        -- 30% for each role a touch holds (first, lead creation, opportunity creation) and 10%
        -- shared by the touches holding none; normalized below when roles coincide or are missing.
        0.3 * (
            case when is_first_touch then 1 else 0 end
            + case when is_lead_creation_touch then 1 else 0 end
            + case when is_opportunity_creation_touch then 1 else 0 end
        ) as w_role_weight
    from touches

),

w_shaped as (

    select
        weighted.*,
        case
            when w_role_weight > 0 then w_role_weight
            else 0.1 / count(case when w_role_weight = 0 then 1 end)
                over (partition by deal_id, contact_id)
        end as w_shaped_weight
    from weighted

),

unpivoted as (

    {% for model in attribution_models() %}
    select
        deal_touch_id, deal_id, deal_fingerprint, contact_id, visit_id, touched_at, channel,
        touch_source,
        touch_medium, touch_campaign, contact_share, contact_revenue,
        '{{ model }}' as attribution_model,
        cast({{ model }}_weight as numeric(38, 18)) as weight
    from w_shaped
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

normalized as (

    select
        unpivoted.*,
        weight / sum(weight) over (partition by deal_id, contact_id, attribution_model)
            as journey_credit
    from unpivoted

)

select
    {{ dbt.concat(['deal_touch_id', "'-'", 'attribution_model']) }} as attribution_id,
    deal_id,
    contact_id,
    visit_id,
    touched_at,
    channel,
    touch_source,
    touch_medium,
    touch_campaign,
    attribution_model,
    cast(contact_share * journey_credit as numeric(20, 12)) as credit,
    cast(contact_revenue * journey_credit as numeric(24, 8)) as attributed_revenue,
    deal_fingerprint
from normalized
