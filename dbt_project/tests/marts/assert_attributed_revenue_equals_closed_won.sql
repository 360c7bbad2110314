-- The mart must attribute every cent of closed-won revenue: returns a row when it does not.
with

attributed as (

    select coalesce(sum(revenue), 0) as revenue from {{ ref('closed_loop_attribution') }}

),

closed_won as (

    select coalesce(sum(amount), 0) as revenue
    from {{ ref('int_deal_outcomes') }}
    where outcome = 'won'

)

select attributed.revenue as attributed_revenue, closed_won.revenue as closed_won_revenue
from attributed cross join closed_won
where attributed.revenue <> closed_won.revenue
