{#-
    The persistent outreach log: one row per person per night on which their step was
    due (new for them, or a touchpoint day since their last purchase), with what
    happened: listed (in tonight's file), holdout (kept out on purpose, to measure lift)
    or suppressed (and why).

    A night depends on the nights before it (is the step new? was the person contacted
    for this campaign within the cool-down?), so building night D recomputes D and every
    later night already built (pre-hook delete_nights_from_as_of_date). The log is then
    a function of the set of nights built, never of the order they were built in.
-#}
{{ config(pre_hook="{{ delete_nights_from_as_of_date() }}") }}

with recursive

next_steps as (

    select * from {{ ref('next_steps') }}

),

settings as (

    select * from {{ ref('outreach_settings') }}

),

-- the first night recomputed: D, or the first night of next_steps when the log is new
recompute_from as (

    {{ first_recomputed_night('next_steps') }}

),

previous_night as (

    select max(next_steps.as_of_date) as as_of_date
    from next_steps
    cross join recompute_from
    where next_steps.as_of_date < recompute_from.first_night

),

-- the nights recomputed and the night just before them ("is the step new?")
steps_in_play as (

    select next_steps.*
    from next_steps
    cross join recompute_from
    cross join previous_night
    where
        next_steps.as_of_date >= recompute_from.first_night
        or next_steps.as_of_date = previous_night.as_of_date

),

nights_in_play as (

    select
        as_of_date,
        row_number() over (order by as_of_date) as night_number

    from (select distinct as_of_date from steps_in_play) as nights

),

steps_numbered as (

    select
        steps_in_play.*,
        nights_in_play.night_number

    from steps_in_play
    inner join nights_in_play
        on steps_in_play.as_of_date = nights_in_play.as_of_date

),

-- due tonight: the campaign differs from the person's campaign on the previous night
-- built (or they had none), or the days since their last purchase are a touchpoint day
due_steps as (

    select
        tonight.as_of_date,
        tonight.account_id,
        tonight.campaign,
        tonight.next_step,
        tonight.ladder,
        tonight.segment,
        tonight.list_segment,
        tonight.touchpoint_day,
        tonight.contact_block,
        -- the comparison in brackets: sqlfluff's parser ends a select list at the `from` of
        -- a bare `is distinct from`
        case
            when (tonight.campaign is distinct from previous.campaign) then 'new_step'
            else 'touchpoint_day'
        end as due_because

    from steps_numbered as tonight
    cross join recompute_from
    left join steps_numbered as previous
        on
            tonight.account_id = previous.account_id
            and tonight.night_number = previous.night_number + 1
    where
        tonight.as_of_date >= recompute_from.first_night
        and tonight.campaign is not null
        and (
            tonight.campaign is distinct from previous.campaign
            or tonight.touchpoint_day is not null
        )

),

eligible as (

    select
        account_id,
        campaign,
        as_of_date

    from due_steps
    where contact_block is null

),

-- contacts (listed or holdout) before the recomputed nights that still hold a cool-down
earlier_contacts as (

    {% if is_incremental() -%}
    select
        log.account_id,
        log.campaign,
        max(log.as_of_date) as as_of_date

    from {{ this }} as log
    cross join recompute_from
    cross join settings
    where
        log.outcome in ('listed', 'holdout')
        and log.as_of_date < recompute_from.first_night
        and log.as_of_date > recompute_from.first_night - settings.cool_down_days
    group by log.account_id, log.campaign
    {%- else -%}
    select
        cast(null as varchar) as account_id,
        cast(null as varchar) as campaign,
        cast(null as date) as as_of_date
    where false
    {%- endif %}

),

-- for every eligible night, the first eligible night of the same person and campaign at
-- least a cool-down later: where a contact on that night allows the next one
eligible_linked as (

    select
        eligible.account_id,
        eligible.campaign,
        eligible.as_of_date,
        min(later.as_of_date) as next_allowed_date

    from eligible
    cross join settings
    left join eligible as later
        on
            eligible.account_id = later.account_id
            and eligible.campaign = later.campaign
            and later.as_of_date >= eligible.as_of_date + settings.cool_down_days
    group by eligible.account_id, eligible.campaign, eligible.as_of_date

),

first_contacts as (

    select
        eligible.account_id,
        eligible.campaign,
        min(eligible.as_of_date) as as_of_date

    from eligible
    cross join settings
    left join earlier_contacts
        on
            eligible.account_id = earlier_contacts.account_id
            and eligible.campaign = earlier_contacts.campaign
    where
        earlier_contacts.as_of_date is null
        or eligible.as_of_date >= earlier_contacts.as_of_date + settings.cool_down_days
    group by eligible.account_id, eligible.campaign

),

-- the contacts, chained: the first allowed night, then the first eligible night a
-- cool-down after it, and so on
contacts (account_id, campaign, as_of_date) as (

    select
        account_id,
        campaign,
        as_of_date

    from first_contacts

    union all

    select
        eligible_linked.account_id,
        eligible_linked.campaign,
        eligible_linked.next_allowed_date

    from contacts
    inner join eligible_linked
        on
            contacts.account_id = eligible_linked.account_id
            and contacts.campaign = eligible_linked.campaign
            and contacts.as_of_date = eligible_linked.as_of_date
    where eligible_linked.next_allowed_date is not null

),

all_contacts as (

    select
        account_id,
        campaign,
        as_of_date

    from contacts

    union all

    select
        account_id,
        campaign,
        as_of_date

    from earlier_contacts

),

-- for a night held back by the cool-down: the contact that started it
cool_downs as (

    select
        due_steps.account_id,
        due_steps.campaign,
        due_steps.as_of_date,
        max(all_contacts.as_of_date) as cool_down_since

    from due_steps
    cross join settings
    inner join all_contacts
        on
            due_steps.account_id = all_contacts.account_id
            and due_steps.campaign = all_contacts.campaign
            and due_steps.as_of_date > all_contacts.as_of_date
            and all_contacts.as_of_date > due_steps.as_of_date - settings.cool_down_days
    group by due_steps.account_id, due_steps.campaign, due_steps.as_of_date

),

decided as (

    select
        due_steps.*,
        {{ stable_bucket("due_steps.account_id || '|' || due_steps.campaign", 100) }}
            as holdout_bucket,
        settings.holdout_percent,
        contacts.as_of_date is not null as is_contacted,
        cool_downs.cool_down_since

    from due_steps
    cross join settings
    left join contacts
        on
            due_steps.account_id = contacts.account_id
            and due_steps.campaign = contacts.campaign
            and due_steps.as_of_date = contacts.as_of_date
    left join cool_downs
        on
            due_steps.account_id = cool_downs.account_id
            and due_steps.campaign = cool_downs.campaign
            and due_steps.as_of_date = cool_downs.as_of_date

),

final as (

    select
        as_of_date,
        account_id,
        campaign,
        next_step,
        ladder,
        segment,
        list_segment,
        due_because,
        touchpoint_day,
        case
            when contact_block is not null or not is_contacted then 'suppressed'
            when holdout_bucket < holdout_percent then 'holdout'
            else 'listed'
        end as outcome,
        case
            when contact_block is not null then contact_block
            when not is_contacted then 'cool_down'
        end as suppression_reason,
        case
            when contact_block is null and not is_contacted then cool_down_since
        end as cool_down_since,
        cast(holdout_bucket as integer) as holdout_bucket

    from decided

)

select * from final
