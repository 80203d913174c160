-- The purchases up to night D (int_purchases_to_date, kept up to date) with the flag of
-- D's purchase window. A view: the window moves every night, the purchases do not.
{{ config(materialized='view') }}

with

purchases as (

    select * from {{ ref('int_purchases_to_date') }}

),

final as (

    select
        order_id,
        account_id,
        order_type,
        currency_code,
        order_total,
        conversion_rate,
        order_revenue,
        ordered_at,
        order_date,
        (
            order_date > {{ purchase_window_start() }}
            and order_date <= {{ as_of_date() }}
        ) as is_in_purchase_window,
        order_volume

    from purchases

)

select * from final
