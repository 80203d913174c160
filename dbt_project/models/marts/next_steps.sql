-- One row per account per night built, from the change history (next_steps_history):
-- the days since the last purchase, and the touchpoint day they fall on (seed
-- touchpoint_days; for a first_purchase step, the days since the enrolment), are counted
-- from each night.
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
        'contact_block',
        'sponsor_account_id',
        'nearest_upline_leader_id',
        'address_key',
        'enrolled_date',
        'offer_sku',
        'offer_rule',
        'offer_reason',
    ]) }}

),

touchpoint_days as (

    select * from {{ ref('touchpoint_days') }}

),

counted as (

    select
        nights.*,
        cast(nights.as_of_date - nights.last_purchase_date as bigint) as days_since_last_purchase,
        -- the touchpoint days of a first purchase count from the enrolment, every other
        -- step's from the last purchase
        cast(
            nights.as_of_date - case
                when nights.next_step = 'first_purchase' then nights.enrolled_date
                else nights.last_purchase_date
            end as bigint
        ) as days_since_touchpoint_start

    from nights

),

final as (

    select
        counted.as_of_date,
        counted.account_id,
        counted.segment,
        counted.next_step,
        counted.reason,
        counted.rule_id,
        counted.ladder,
        counted.campaign,
        counted.list_segment,
        counted.step_priority,
        counted.days_since_last_purchase,
        touchpoint_days.days_since_last_purchase as touchpoint_day,
        counted.contact_block,
        counted.sponsor_account_id,
        counted.nearest_upline_leader_id,
        counted.address_key,
        counted.enrolled_date,
        counted.offer_sku,
        counted.offer_rule,
        counted.offer_reason

    from counted
    left join touchpoint_days
        on counted.days_since_touchpoint_start = touchpoint_days.days_since_last_purchase

)

select * from final
