-- The purchase models' data per account up to night D (issue 16), what does not move
-- with D: purchases as counted everywhere (int_purchases_to_date: completed, total > 0,
-- up to D, in the reporting currency), several on one calendar day counting as one
-- transaction. int_transactions_summarised_to_accounts adds D and the tenure.
--
-- Kept up to date by account (macros in product_facts.sql): a night recomputes the
-- accounts of every version of the orders int_purchases_to_date recomputes, and every
-- account on a new table, a re-run, an earlier night, or a night on which
-- int_purchases_to_date converted every purchase again (its pre-hook then forgets the
-- night this table was built for). After changing this model's logic or columns, build it
-- once with --full-refresh.
-- the accounts to recompute read:
-- depends_on: {{ ref('stg_commerce__orders') }}
-- depends_on: {{ ref('int_orders_deduplicated') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_transactions_to_recompute() }}",
    post_hook="{{ remember_night_built() }}",
) }}
{%- set built = product_facts_built_before() %}

with

purchases as (

    select * from {{ ref('int_purchases_to_date') }}
    {%- if built is not none %}
    where account_id in ({{ transactions_accounts_to_recompute(built) }})
    {%- endif %}

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
        account_id,
        min(transaction_date) as first_transaction_date,
        max(transaction_date) as last_transaction_date,
        count(*) - 1 as repeat_transactions,
        max(transaction_date) - min(transaction_date) as recency_days,
        -- a model input, not an amount to report: not rounded to cents
        avg(cast(transaction_value as double precision)) filter (
            where transaction_number > 1
        ) as repeat_transaction_value_mean

    from numbered
    group by account_id

)

select * from final
