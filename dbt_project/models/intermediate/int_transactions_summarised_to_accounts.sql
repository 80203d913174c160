-- The purchase models' data per account as of D (issue 16): purchases as counted
-- everywhere (int_purchases_converted: completed, total > 0, up to D, in the reporting
-- currency), several on one calendar day counting as one transaction.
with

purchases as (

    select * from {{ ref('int_purchases_converted') }}

),

transaction_days as (

    select
        account_id,
        order_date as transaction_date,
        sum(order_revenue) as transaction_value

    from purchases
    group by account_id, order_date

),

numbered as (

    select
        transaction_days.*,
        row_number() over (
            partition by transaction_days.account_id
            order by transaction_days.transaction_date
        ) as transaction_number

    from transaction_days

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        account_id,
        min(transaction_date) as first_transaction_date,
        max(transaction_date) as last_transaction_date,
        count(*) - 1 as repeat_transactions,
        max(transaction_date) - min(transaction_date) as recency_days,
        {{ as_of_date() }} - min(transaction_date) as tenure_days,
        -- a model input, not an amount to report: not rounded to cents
        avg(cast(transaction_value as double precision)) filter (
            where transaction_number > 1
        ) as repeat_transaction_value_mean

    from numbered
    group by account_id

)

select * from final
