-- The purchase models' data per account as of D (issue 16): the transactions kept up to
-- date (int_transactions_summarised_to_date), with D and each account's tenure on D. A
-- view: the tenure grows every night, the transactions change only when an account buys.
{{ config(materialized='view') }}

with

transactions as (

    select * from {{ ref('int_transactions_summarised_to_date') }}

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        account_id,
        first_transaction_date,
        last_transaction_date,
        repeat_transactions,
        recency_days,
        {{ as_of_date() }} - first_transaction_date as tenure_days,
        repeat_transaction_value_mean

    from transactions

)

select * from final
