-- Closed-won revenue split across the deal's contacts so that it adds up to the cent:
-- every contact gets floor(amount / n) cents, and the leftover cents go one each to the
-- contacts with the lowest ids. A won deal without contacts keeps its whole amount on one row
-- with a null contact.
with

won as (

    select * from {{ ref('int_deal_outcomes') }} where outcome = 'won'

),

deal_contacts as (

    select * from {{ ref('stg_hubspot__deal_contacts') }}

),

numbered as (

    select
        won.deal_id,
        deal_contacts.contact_id,
        won.amount,
        won.closed_at,
        cast(round(won.amount * 100) as bigint) as amount_cents,
        count(deal_contacts.contact_id) over (partition by won.deal_id) as contact_count,
        row_number() over (
            partition by won.deal_id
            order by length(deal_contacts.contact_id), deal_contacts.contact_id
        ) as contact_rank
    from won
    left join deal_contacts on won.deal_id = deal_contacts.deal_id

)

select
    deal_id,
    contact_id,
    amount as deal_amount,
    closed_at,
    greatest(contact_count, 1) as contact_count,
    cast(
        cast(
            {{ integer_division('amount_cents', 'greatest(contact_count, 1)') }}
            + case when contact_rank <= mod(amount_cents, greatest(contact_count, 1)) then 1 else 0 end
            as numeric(20, 2)
        ) * 0.01
        as numeric(18, 2)
    ) as revenue
from numbered
