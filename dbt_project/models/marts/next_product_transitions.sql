-- From the first product to the next (issue 17), one row per as-of date and pair (a
-- product of a buyer's first basket, a product of their second basket) made by at least
-- min_transition_buyers buyers (seed offer_settings): the facts the `next_after_first`
-- offers of the second_order campaign rest on.
with

product_transitions as (

    select * from {{ ref('int_product_transitions_counted') }}

),

offer_settings as (

    select * from {{ ref('offer_settings') }}

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        product_transitions.first_sku,
        product_transitions.next_sku,
        cast(product_transitions.buyers as bigint) as buyers,
        cast(product_transitions.first_sku_buyers as bigint) as first_sku_buyers,
        cast(
            round(
                cast(product_transitions.buyers as decimal(38, 10))
                / product_transitions.first_sku_buyers,
                6
            ) as decimal(12, 6)
        ) as share_of_first_sku_buyers

    from product_transitions
    cross join offer_settings
    where product_transitions.buyers >= offer_settings.min_transition_buyers

)

select * from final
