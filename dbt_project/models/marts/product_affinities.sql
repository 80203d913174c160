-- Products bought together (issue 17), one row per as-of date and ordered pair of
-- products that shared at least min_pair_baskets baskets (seed offer_settings) in the
-- purchase window: support, confidence and lift, the facts the `bought_together` offers
-- rest on.
with

product_pairs as (

    select * from {{ ref('int_product_pairs_counted') }}

),

offer_settings as (

    select * from {{ ref('offer_settings') }}

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        product_pairs.antecedent_sku,
        product_pairs.consequent_sku,
        cast(product_pairs.baskets_with_both as bigint) as baskets_with_both,
        cast(product_pairs.antecedent_baskets as bigint) as antecedent_baskets,
        cast(product_pairs.consequent_baskets as bigint) as consequent_baskets,
        cast(product_pairs.window_baskets as bigint) as window_baskets,
        cast(
            round(
                cast(product_pairs.baskets_with_both as decimal(38, 10))
                / product_pairs.window_baskets,
                6
            ) as decimal(12, 6)
        ) as support,  -- noqa: RF04
        cast(
            round(
                cast(product_pairs.baskets_with_both as decimal(38, 10))
                / product_pairs.antecedent_baskets,
                6
            ) as decimal(12, 6)
        ) as confidence,
        cast(
            round(
                cast(product_pairs.baskets_with_both as decimal(38, 10))
                * product_pairs.window_baskets
                / (
                    cast(product_pairs.antecedent_baskets as decimal(38, 10))
                    * product_pairs.consequent_baskets
                ),
                6
            ) as decimal(18, 6)
        ) as lift

    from product_pairs
    cross join offer_settings
    where product_pairs.baskets_with_both >= offer_settings.min_pair_baskets

)

select * from final
