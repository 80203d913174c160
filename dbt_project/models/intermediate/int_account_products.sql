-- Each account's products as of night D (issue 17, macro account_products): per account
-- and product bought or returned, the days bought, units, first and last day, whether it
-- opened the account's first basket, whether it was returned. What the offers read.
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
    {{ account_products('lines_in_play') }}
) as account_products
