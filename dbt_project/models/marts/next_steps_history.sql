-- depends_on: {{ ref('built_nights') }}
{{ config(
    materialized='night_history',
    unique_key='account_id',
    upgrade_from={'relation': 'next_steps', 'select': 'as_of_date - cast(days_since_last_purchase as integer) as last_purchase_date'},
    added_columns={'enrolled_date': 'date'},
) }}

-- One row per account per night: the one next step (or none, with the reason), the rule
-- that chose it, and the facts that decide whether the person may hear about it. Built
-- from night D's data alone; who is listed tonight is decided in outreach_log.

with

stepped_accounts as (

    select * from {{ ref('int_accounts_stepped') }}

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        account_id,
        segment,
        next_step,
        reason,
        rule_id,
        ladder,
        campaign,
        list_segment,
        step_priority,
        -- stored as the date, so the row does not change every night (the view
        -- next_steps gives the days since it, and the touchpoint day they fall on, on
        -- each night)
        {{ as_of_date() }} - cast(days_since_last_purchase as integer) as last_purchase_date,
        contact_block,
        sponsor_account_id,
        nearest_upline_leader_id,
        address_key,
        enrolled_date

    from stepped_accounts

)

select * from final
