with

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

currency_rates as (

    select * from {{ ref('currency_rates') }}

),

reporting_currency_rate as (

    select rate_to_reporting as reporting_rate
    from currency_rates
    where currency = {{ reporting_currency() }}

),

purchases as (

    select * from orders
    where
        order_status = 'completed'
        and order_total > 0
        and order_date <= {{ as_of_date() }}

),

purchases_with_rates as (

    select
        purchases.*,
        cast(
            currency_rates.rate_to_reporting / reporting_currency_rate.reporting_rate
            as decimal(38, 10)
        ) as conversion_rate

    from purchases
    left join currency_rates
        on purchases.currency_code = currency_rates.currency
    left join reporting_currency_rate
        on true

),

final as (

    select
        order_id,
        account_id,
        order_type,
        currency_code,
        order_total,
        conversion_rate,
        cast(
            round(cast(order_total as decimal(38, 4)) * conversion_rate, 2)
            as decimal(18, 2)
        ) as order_revenue,
        ordered_at,
        order_date,
        (
            order_date > {{ purchase_window_start() }}
            and order_date <= {{ as_of_date() }}
        ) as is_in_purchase_window,
        order_volume

    from purchases_with_rates

)

select * from final
