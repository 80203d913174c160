-- depends_on: {{ ref('built_nights') }}
{{ config(
    materialized='night_history',
    unique_key='account_id',
    upgrade_from={'relation': 'customer_segments'},
) }}

with

segmented_accounts as (

    select * from {{ ref('int_accounts_segmented') }}

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        account_id,
        account_type,
        account_status as status,
        orders_in_window,
        revenue_in_window,
        first_purchase_date,
        last_purchase_date,
        segment,
        has_active_autoship,
        -- deprecated aliases of orders_in_window and revenue_in_window, kept for
        -- release 0.2 only (README, "Renamed columns")
        orders_in_window as orders_12m,
        revenue_in_window as revenue_12m

    from segmented_accounts

)

select * from final
