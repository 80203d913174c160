-- depends_on: {{ ref('built_nights') }}
{{ config(
    materialized='night_history',
    unique_key='account_id',
    upgrade_from={'relation': 'journey_stages'},
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
        autoship_purchases_to_date

    from staged_accounts

)

select * from final
