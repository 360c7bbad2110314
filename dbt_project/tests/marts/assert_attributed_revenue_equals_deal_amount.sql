-- Under every model, the revenue attributed to a deal's touches adds up to the deal's closed-won
-- amount (to the cent); returns the deals and models where it does not.
with

attributed as (

    select deal_id, attribution_model, sum(attributed_revenue) as revenue
    from {{ ref('fct_attribution') }}
    group by deal_id, attribution_model

),

won as (

    select deal_id, amount from {{ ref('int_deal_outcomes') }} where outcome = 'won'

)

select won.deal_id, models.attribution_model, attributed.revenue, won.amount
from won
cross join (select distinct attribution_model from {{ ref('fct_attribution') }}) as models
left join attributed
    on won.deal_id = attributed.deal_id
    and models.attribution_model = attributed.attribution_model
where round(coalesce(attributed.revenue, 0), 2) <> won.amount
