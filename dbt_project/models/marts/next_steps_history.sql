-- depends_on: {{ ref('built_nights') }}
{{ config(
    materialized='night_history',
    unique_key='account_id',
    upgrade_from={'relation': 'next_steps', 'select': 'as_of_date - cast(days_since_last_purchase as integer) as last_purchase_date'},
    added_columns={
        'enrolled_date': 'date',
        'offer_sku': 'varchar',
        'offer_rule': 'varchar',
        'offer_reason': 'varchar',
    },
) }}

-- One row per account per night: the one next step (or none, with the reason), the rule
-- that chose it, and the facts that decide whether the person may hear about it. Built
-- from night D's data alone; who is listed tonight is decided in outreach_log.

with

stepped_accounts as (

    select * from {{ ref('int_accounts_stepped') }}

),

offers as (

    select * from {{ ref('int_accounts_offered') }}

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        stepped_accounts.account_id,
        stepped_accounts.segment,
        stepped_accounts.next_step,
        stepped_accounts.reason,
        stepped_accounts.rule_id,
        stepped_accounts.ladder,
        stepped_accounts.campaign,
        stepped_accounts.list_segment,
        stepped_accounts.step_priority,
        -- stored as the date, so the row does not change every night (the view
        -- next_steps gives the days since it, and the touchpoint day they fall on, on
        -- each night)
        {{ as_of_date() }} - cast(stepped_accounts.days_since_last_purchase as integer)
            as last_purchase_date,
        stepped_accounts.contact_block,
        stepped_accounts.sponsor_account_id,
        stepped_accounts.nearest_upline_leader_id,
        stepped_accounts.address_key,
        stepped_accounts.enrolled_date,
        -- what to offer (issue 17): empty without a step
        offers.offer_sku,
        offers.offer_rule,
        offers.offer_reason

    from stepped_accounts
    left join offers
        on stepped_accounts.account_id = offers.account_id

)

select * from final
