with

purchases as (

    select * from {{ ref('int_purchases_converted') }}

),

final as (

    select
        account_id,
        count(order_id) filter (where is_in_purchase_window) as orders_in_window,
        -- sums with a fixed scale on every warehouse (PostgreSQL's sum of decimals has none)
        cast(
            coalesce(sum(order_revenue) filter (where is_in_purchase_window), 0)
            as decimal(38, 2)
        ) as revenue_in_window,
        min(order_date) as first_purchase_date,
        max(order_date) as last_purchase_date,
        count(order_id) as purchases_to_date,
        count(order_id) filter (where order_type = 'autoship') as autoship_purchases_to_date,
        cast(sum(order_revenue) as decimal(18, 2)) as revenue_to_date,
        cast(
            coalesce(sum(order_volume) filter (where is_in_purchase_window), 0)
            as decimal(38, 4)
        ) as volume_in_window,
        max(order_date) filter (where order_volume > 0) as last_volume_date

    from purchases
    group by account_id

)

select * from final
