-- The products of the orders known on night D (issue 17), one row per account,
-- transaction day, product and kind: `purchase` (the order is a purchase as counted
-- everywhere, int_purchases_converted) or `return` (the order's latest version is
-- `returned`). An order's lines are those of the latest export night on or before D that
-- has lines for it (a re-exported order need not repeat its lines). Orders without lines,
-- and every order when the company sends no order_lines file, have no rows here.
--
-- Kept up to date (macro product_facts): a night recomputes the account days (account,
-- order date) of the orders whose versions or order lines changed since the night the
-- table was last built for, or every row on a new table, a re-run or an earlier night.
-- After changing this model's logic or columns, build it once with --full-refresh.
-- the days to recompute (macro product_facts) read:
-- depends_on: {{ ref('stg_commerce__orders') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_days_to_recompute() }}",
    post_hook="{{ remember_night_built() }}",
) }}
{%- set built = product_facts_built_before() %}

with

{% if built is not none -%}
-- the account days whose rows may differ from those of the night the table was built for
days_to_recompute as (

    {{ product_facts_days_to_recompute(built) }}

),

{% endif -%}
orders as (

    select * from {{ ref('int_orders_deduplicated') }}
    {%- if built is not none %}
    where
        (account_id, order_date) in (
            select
                days_to_recompute.account_id,
                days_to_recompute.order_date
            from days_to_recompute
        )
    {%- endif %}

),

purchases as (

    select * from {{ ref('int_purchases_converted') }}
    {%- if built is not none %}
    where order_id in (select orders.order_id from orders)
    {%- endif %}

),

lines_known as (

    select * from {{ ref('stg_commerce__order_lines') }}
    where export_date <= {{ as_of_date() }}
    {%- if built is not none %}
        and order_id in (select orders.order_id from orders)
    {%- endif %}

),

latest_line_exports as (

    select
        order_id,
        max(export_date) as export_date

    from lines_known
    group by order_id

),

latest_lines as (

    select lines_known.*
    from lines_known
    inner join latest_line_exports
        on
            lines_known.order_id = latest_line_exports.order_id
            and lines_known.export_date = latest_line_exports.export_date

),

orders_with_products as (

    select
        purchases.order_id,
        purchases.account_id,
        purchases.order_date,
        'purchase' as line_kind

    from purchases

    union all

    select
        orders.order_id,
        orders.account_id,
        orders.order_date,
        'return' as line_kind

    from orders
    where
        orders.order_status = 'returned'
        and orders.order_date <= {{ as_of_date() }}

),

final as (

    select
        orders_with_products.account_id,
        orders_with_products.order_date as transaction_date,
        latest_lines.sku,
        orders_with_products.line_kind,
        cast(sum(latest_lines.quantity) as bigint) as quantity,
        count(*) as order_lines

    from orders_with_products
    inner join latest_lines
        on orders_with_products.order_id = latest_lines.order_id
    group by
        orders_with_products.account_id,
        orders_with_products.order_date,
        latest_lines.sku,
        orders_with_products.line_kind

)

select * from final
