-- The products of the orders known on night D (issue 17), one row per account,
-- transaction day, product and kind: `purchase` (the order is a purchase as counted
-- everywhere, int_purchases_converted) or `return` (the order's latest version is
-- `returned`). An order's lines are those of the latest export night on or before D that
-- has lines for it (a re-exported order need not repeat its lines). Orders without lines,
-- and every order when the company sends no order_lines file, have no rows here.
with

order_lines as (

    select * from {{ ref('stg_commerce__order_lines') }}

),

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

purchases as (

    select * from {{ ref('int_purchases_converted') }}

),

lines_known as (

    select * from order_lines
    where export_date <= {{ as_of_date() }}

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
