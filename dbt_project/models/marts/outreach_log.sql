{#-
    The persistent outreach log: one row per person per night on which their step was
    due (new for them, a touchpoint day since their last purchase, or the night their
    expected next purchase date passed without a purchase), with what
    happened: listed (in tonight's file), holdout (kept out on purpose, to measure lift),
    control (the address is in the global control group, out of every campaign) or
    suppressed (and why).

    An address is one person (doc block outreach_rules): of the accounts sharing an
    address whose steps are due and unblocked tonight, one is chosen and the others are
    suppressed as duplicate_address, and the cool-down runs per address and campaign.

    A night depends on the nights before it (is the step new? was the person contacted
    for this campaign within the cool-down?), so building night D recomputes D and every
    later night already built (pre-hook delete_nights_from_as_of_date). The log is then
    a function of the set of nights built, never of the order they were built in.
-#}
{{ config(pre_hook="{{ delete_nights_from_as_of_date() }}") }}
-- depends_on: {{ ref('built_nights') }}
{%- set first_night = first_night_in_play(ref('next_steps_history')) %}

with recursive

-- the nights recomputed and the one before them (a literal date: see first_night_in_play)
next_steps as (

    select * from {{ ref('next_steps') }}
    {%- if first_night is not none %}
    where as_of_date >= {{ first_night }}
    {%- endif %}

),

-- each person's expected next purchase date on the nights in play (none without a
-- purchase model tonight, and on the PostgreSQL target)
expected_purchases as (

    select
        as_of_date,
        account_id,
        expected_next_purchase_date

    from {{ ref('customer_predictions') }}
    {%- if first_night is not none %}
    where as_of_date >= {{ first_night }}
    {%- endif %}

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
        nights_in_play.night_number,
        expected_purchases.expected_next_purchase_date,
        coalesce(
            expected_purchases.expected_next_purchase_date <= steps_in_play.as_of_date, false
        ) as is_purchase_overdue

    from steps_in_play
    inner join nights_in_play
        on steps_in_play.as_of_date = nights_in_play.as_of_date
    left join expected_purchases
        on
            steps_in_play.as_of_date = expected_purchases.as_of_date
            and steps_in_play.account_id = expected_purchases.account_id

),

-- due tonight: the campaign differs from the person's campaign on the previous night
-- built (or they had none), or the days since their last purchase are a touchpoint day,
-- or their expected next purchase date has passed since the previous night built (it had
-- not on that night, it has tonight: once per expected date, also after a gap in the
-- nights; a purchase moves the date, so it can pass again)
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
        tonight.address_key,
        tonight.step_priority,
        tonight.days_since_last_purchase,
        -- the comparison in brackets: sqlfluff's parser ends a select list at the `from` of
        -- a bare `is distinct from`
        case
            when (tonight.campaign is distinct from previous.campaign) then 'new_step'
            when tonight.touchpoint_day is not null then 'touchpoint_day'
            else 'expected_purchase'
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
            or (
                tonight.is_purchase_overdue
                and previous.expected_next_purchase_date is not null
                and not previous.is_purchase_overdue
            )
        )

),

-- due tonight and nothing blocks contact, ranked within their address: the step with
-- the lowest campaign priority, then the most recent purchase, then the smallest
-- account_id is the one the address may hear about tonight
unblocked as (

    select
        account_id,
        address_key,
        campaign,
        as_of_date,
        row_number() over (
            partition by as_of_date, address_key
            order by
                step_priority asc,
                days_since_last_purchase asc nulls last,
                account_id asc
        ) as address_rank

    from due_steps
    where contact_block is null

),

-- at most one per address per night; the cool-down below is per address and campaign
eligible as (

    select
        account_id,
        address_key,
        campaign,
        as_of_date

    from unblocked
    where address_rank = 1

),

-- contacts (listed or holdout) before the recomputed nights that still hold a cool-down
earlier_contacts as (

    {% if is_incremental() -%}
    select
        log.address_key,
        log.campaign,
        max(log.as_of_date) as as_of_date

    from {{ this }} as log
    cross join recompute_from
    cross join settings
    where
        log.outcome in ('listed', 'holdout', 'control')
        and log.as_of_date < recompute_from.first_night
        and log.as_of_date > recompute_from.first_night - settings.cool_down_days
    group by log.address_key, log.campaign
    {%- else -%}
    select
        cast(null as varchar) as address_key,
        cast(null as varchar) as campaign,
        cast(null as date) as as_of_date
    where false
    {%- endif %}

),

-- for every eligible night, the first eligible night of the same address and campaign
-- at least a cool-down later: where a contact on that night allows the next one
eligible_linked as (

    select
        eligible.address_key,
        eligible.campaign,
        eligible.as_of_date,
        min(later.as_of_date) as next_allowed_date

    from eligible
    cross join settings
    left join eligible as later
        on
            eligible.address_key = later.address_key
            and eligible.campaign = later.campaign
            and later.as_of_date >= eligible.as_of_date + settings.cool_down_days
    group by eligible.address_key, eligible.campaign, eligible.as_of_date

),

first_contacts as (

    select
        eligible.address_key,
        eligible.campaign,
        min(eligible.as_of_date) as as_of_date

    from eligible
    cross join settings
    left join earlier_contacts
        on
            eligible.address_key = earlier_contacts.address_key
            and eligible.campaign = earlier_contacts.campaign
    where
        earlier_contacts.as_of_date is null
        or eligible.as_of_date >= earlier_contacts.as_of_date + settings.cool_down_days
    group by eligible.address_key, eligible.campaign

),

-- the contacts of an address, chained: the first allowed night, then the first eligible
-- night a cool-down after it, and so on
contacts (address_key, campaign, as_of_date) as (

    select
        address_key,
        campaign,
        as_of_date

    from first_contacts

    union all

    select
        eligible_linked.address_key,
        eligible_linked.campaign,
        eligible_linked.next_allowed_date

    from contacts
    inner join eligible_linked
        on
            contacts.address_key = eligible_linked.address_key
            and contacts.campaign = eligible_linked.campaign
            and contacts.as_of_date = eligible_linked.as_of_date
    where eligible_linked.next_allowed_date is not null

),

all_contacts as (

    select
        address_key,
        campaign,
        as_of_date

    from contacts

    union all

    select
        address_key,
        campaign,
        as_of_date

    from earlier_contacts

),

-- for a night held back by the cool-down: the contact of the address that started it
cool_downs as (

    select
        eligible.account_id,
        eligible.as_of_date,
        max(all_contacts.as_of_date) as cool_down_since

    from eligible
    cross join settings
    inner join all_contacts
        on
            eligible.address_key = all_contacts.address_key
            and eligible.campaign = all_contacts.campaign
            and eligible.as_of_date > all_contacts.as_of_date
            and all_contacts.as_of_date > eligible.as_of_date - settings.cool_down_days
    group by eligible.account_id, eligible.as_of_date

),

decided as (

    select
        due_steps.*,
        {{ stable_bucket("due_steps.account_id || '|' || due_steps.campaign", 100) }}
            as holdout_bucket,
        settings.holdout_percent,
        -- the global control group: by address (a person), the same on every night and
        -- for every campaign
        {{ stable_bucket("due_steps.address_key || '|global_control'", 100) }}
        < settings.global_control_percent as is_global_control,
        chosen.account_id as address_chosen_account_id,
        coalesce(due_steps.account_id = chosen.account_id, false) as is_chosen,
        contacts.as_of_date is not null as is_contacted,
        cool_downs.cool_down_since

    from due_steps
    cross join settings
    -- the account its address may hear through tonight (none when all are blocked)
    left join eligible as chosen
        on
            due_steps.address_key = chosen.address_key
            and due_steps.as_of_date = chosen.as_of_date
    -- a contact is the chosen account's: at most one eligible row per address and night
    left join contacts
        on
            due_steps.account_id = chosen.account_id
            and chosen.address_key = contacts.address_key
            and chosen.campaign = contacts.campaign
            and chosen.as_of_date = contacts.as_of_date
    left join cool_downs
        on
            due_steps.account_id = cool_downs.account_id
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
            when is_global_control then 'control'
            when holdout_bucket < holdout_percent then 'holdout'
            else 'listed'
        end as outcome,
        case
            when contact_block is not null then contact_block
            when not is_chosen then 'duplicate_address'
            when not is_contacted then 'cool_down'
        end as suppression_reason,
        case when is_chosen and not is_contacted then cool_down_since end as cool_down_since,
        cast(holdout_bucket as integer) as holdout_bucket,
        address_key,
        case
            when contact_block is null and not is_chosen then address_chosen_account_id
        end as address_chosen_account_id

    from decided

)

select * from final
