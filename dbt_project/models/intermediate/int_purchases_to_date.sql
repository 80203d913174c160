-- Every purchase up to night D (winning order versions that are `completed` with
-- `order_total > 0` and an order date <= D), its total converted to the reporting
-- currency. What int_purchases_converted reads (it adds the purchase window of D).
--
-- Kept up to date like the product facts (macros in product_facts.sql), by order: a
-- night recomputes the orders with a version exported or an order date passed since the
-- night the table was built for, and held orders (purchases_orders_to_recompute); every
-- order on a new table, a re-run, an earlier night, or when a currency's conversion rate
-- is no longer the one the table holds (purchases_built_before). After changing this
-- model's logic or columns, build it once with --full-refresh.
-- the orders to recompute read:
-- depends_on: {{ ref('stg_commerce__orders') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_purchases_to_recompute() }}",
    post_hook="{{ remember_night_built() }}",
) }}
{%- set built = purchases_built_before() %}

with

orders as (

    select * from {{ ref('int_orders_deduplicated') }}
    {%- if built is not none %}
    where order_id in ({{ purchases_orders_to_recompute(built) }})
    {%- endif %}

),

conversion_rates as (

    {{ conversion_rates() }}

),

purchases as (

    select * from orders
    where
        order_status = 'completed'
        and order_total > 0
        and order_date <= {{ as_of_date() }}

),

final as (

    select
        purchases.order_id,
        purchases.account_id,
        purchases.order_type,
        purchases.currency_code,
        purchases.order_total,
        conversion_rates.conversion_rate,
        cast(
            round(
                cast(purchases.order_total as decimal(38, 4))
                * conversion_rates.conversion_rate,
                2
            )
            as decimal(18, 2)
        ) as order_revenue,
        purchases.ordered_at,
        purchases.order_date,
        purchases.order_volume

    from purchases
    left join conversion_rates
        on purchases.currency_code = conversion_rates.currency_code

)

select * from final
