-- depends_on: {{ ref('built_nights') }}
{{ config(
    materialized='night_history',
    unique_key='account_id',
) }}

with

transactions as (

    select * from {{ ref('int_transactions_summarised_to_accounts') }}

),

final as (

    -- what changes only when the account buys: the days since its first transaction
    -- count from the night in the view (customer_predictions)
    select
        as_of_date,
        account_id,
        first_transaction_date,
        last_transaction_date,
        repeat_transactions,
        repeat_transaction_value_mean

    from transactions

)

select * from final
