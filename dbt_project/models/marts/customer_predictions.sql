-- One row per purchasing account per night built: the purchase models' scores, computed
-- when read from the change history of each account's transactions
-- (customer_transactions_history) and the night's fits (purchase_model_fits), so no
-- night keeps a copy per account (macro purchase_model_scores, which the outreach lists
-- also use for the people they list).
-- On PostgreSQL, which fits no models (a dbt Python model) and has no lgamma, the view has
-- the same columns and no rows, so the models that read it build there too.
{{ config(materialized='view') }}

{% if target.type == 'duckdb' -%}
{%- set transactions -%}
    {{ nights_of_history(ref('customer_transactions_history'), [
        'account_id',
        'first_transaction_date',
        'last_transaction_date',
        'repeat_transactions',
        'repeat_transaction_value_mean',
    ]) }}
{%- endset -%}
{{ purchase_model_scores(transactions) }}
{%- else %}
select
    cast(null as date) as as_of_date,
    cast(null as varchar) as account_id,
    cast(null as bigint) as repeat_transactions,
    cast(null as bigint) as recency_days,
    cast(null as bigint) as tenure_days,
    cast(null as double precision) as p_alive,
    cast(null as double precision) as expected_purchases_30d,
    cast(null as double precision) as expected_purchases_90d,
    cast(null as double precision) as expected_purchases_365d,
    cast(null as date) as expected_next_purchase_date,
    cast(null as double precision) as expected_order_value,
    cast(null as double precision) as predicted_value_365d,
    cast(null as varchar) as prediction_note
where false
{%- endif %}
