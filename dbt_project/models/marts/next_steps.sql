-- One row per account per night built, from the change history (next_steps_history):
-- the days since the last purchase are counted from each night.
{{ config(materialized='view') }}

with

nights as (

    {{ nights_of_history(ref('next_steps_history'), [
        'account_id',
        'segment',
        'next_step',
        'reason',
        'rule_id',
        'ladder',
        'campaign',
        'list_segment',
        'step_priority',
        'last_purchase_date',
        'touchpoint_day',
        'contact_block',
        'sponsor_account_id',
        'nearest_upline_leader_id',
        'address_key',
    ]) }}

),

final as (

    select
        as_of_date,
        account_id,
        segment,
        next_step,
        reason,
        rule_id,
        ladder,
        campaign,
        list_segment,
        step_priority,
        cast(as_of_date - last_purchase_date as bigint) as days_since_last_purchase,
        touchpoint_day,
        contact_block,
        sponsor_account_id,
        nearest_upline_leader_id,
        address_key

    from nights

)

select * from final
