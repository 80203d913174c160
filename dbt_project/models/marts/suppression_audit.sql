{#-
    Everyone who had a next step on a night but is not in that night's files, and why.
    Reasons, the first that applies: terminated, opted_out, no_valid_email,
    address_terminated, address_opted_out (another account with the same address is
    terminated or opted out), already_converted (these block contact whatever the timing),
    duplicate_address (another account with the same address hears tonight),
    cool_down (the address was contacted for the same campaign within the cool-down),
    holdout (kept out to measure lift), control (in the global control group, out of every
    campaign), and not_due_today (the step is neither new nor on
    a touchpoint day tonight).
    A view over next_steps and outreach_log: it stores nothing and is always in step
    with them.
-#}
{{ config(materialized='view') }}

with

next_steps as (

    select * from {{ ref('next_steps') }}

),

outreach_log as (

    select * from {{ ref('outreach_log') }}

),

final as (

    select
        next_steps.as_of_date,
        next_steps.account_id,
        next_steps.campaign,
        next_steps.next_step,
        next_steps.ladder,
        next_steps.segment,
        next_steps.list_segment,
        coalesce(
            next_steps.contact_block,
            outreach_log.suppression_reason,
            case when outreach_log.outcome in ('holdout', 'control') then outreach_log.outcome end,
            'not_due_today'
        ) as reason,
        outreach_log.due_because,
        outreach_log.cool_down_since,
        next_steps.address_key,
        outreach_log.address_chosen_account_id

    from next_steps
    left join outreach_log
        on
            next_steps.as_of_date = outreach_log.as_of_date
            and next_steps.account_id = outreach_log.account_id
    where
        next_steps.campaign is not null
        and outreach_log.outcome is distinct from 'listed'

)

select * from final
