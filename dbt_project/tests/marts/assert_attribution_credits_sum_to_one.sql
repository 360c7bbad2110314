-- Every model gives each closed-won deal exactly one unit of credit (to rounding of the stored
-- 12 decimals); returns the deals and models where it does not.
select deal_id, attribution_model, sum(credit) as total_credit
from {{ ref('fct_attribution') }}
group by deal_id, attribution_model
having abs(sum(credit) - 1) > 0.000000001
