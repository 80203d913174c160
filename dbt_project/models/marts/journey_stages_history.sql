-- depends_on: {{ ref('built_nights') }}
{{ config(
    materialized='night_history',
    unique_key='account_id',
    upgrade_from={
        'relation': 'journey_stages',
        'select': 'cast(null as decimal(18, 2)) as revenue_to_date',
    },
    added_columns={'revenue_to_date': 'decimal(18, 2)'},
) }}

with

staged_accounts as (

    select * from {{ ref('int_accounts_journey_staged') }}

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        account_id,
        stage,
        purchases_to_date,
        sponsored_buyers,
        segment,
        autoship_purchases_to_date,
        -- what the account's purchases have brought in, all time (reporting currency): it
        -- changes when the account buys, so campaign_performance reads the revenue a
        -- contact brought in within a window from the nights built, as it reads the
        -- conversions
        revenue_to_date

    from staged_accounts

)

select * from final
