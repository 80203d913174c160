-- Each buyer's first two baskets as of night D (macro first_two_baskets): per account,
-- the products of its first basket (basket_number 1) and of its second (2). What the
-- transitions count (int_product_transitions_counted): a few rows per buyer, where
-- counting them from int_order_lines_resolved read every order line of the history.
--
-- Kept up to date like int_order_lines_resolved (macro product_facts): a night recomputes
-- the accounts whose lines may have changed since the night the table was built for.
-- the accounts to recompute (macro product_facts) read:
-- depends_on: {{ ref('stg_commerce__orders') }}
-- depends_on: {{ ref('stg_commerce__order_lines') }}
-- depends_on: {{ ref('int_orders_deduplicated') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_product_facts_to_recompute() }}",
    post_hook="{{ remember_night_built() }}",
) }}

with

lines_in_play as (

    {{ product_facts_lines_in_play() }}

)

select * from (
    {{ first_two_baskets('lines_in_play') }}
) as first_baskets
