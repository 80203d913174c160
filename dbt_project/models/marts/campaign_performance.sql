{#-
    Measured lift: per listing night, campaign, segment and conversion window (the var
    `conversion_window_days`), how many people were listed and held out, how many of each took the step
    within the window, the conversion rates and the lift of listed over holdout.

    A person took the step when a night after the listing night, within the window, shows
    the step's conversion (dated by the first night built that shows it: with nightly
    runs, the day it happened; the CTE `conversions` is the one definition), judged against
    the person's own figures on the listing night. Measured on the nights built so far
    (`measured_through`, the latest night built): a window that reaches past it
    is not complete yet (`is_window_complete`).

    The figures are read from the change histories (`*_history`): a version of a
    person's figures that shows the step taken converts them on the first night built after
    the listing night that it holds on. The per-night views would repeat each version on
    every night it holds, so the work grew with the nights in the window.

    Incremental, so that a night's cost does not grow with the nights built: building
    night D changes the contacts of D and the later nights (outreach_log recomputes them)
    and the figures of night D, which only count for the listing nights whose longest
    window reaches D. So the pre-hook deletes the listing nights from D - (the longest
    window) on, the model
    recomputes them (on a new table: every listing night), and the post-hook stamps every
    row with the nights measured so far. The result depends only on the nights built,
    never on the order they were built in, as when it was rebuilt whole every night.
-#}
{%- set window_days = conversion_window_days() -%}
{%- set longest_window_days = window_days | max -%}
{{ config(
    unique_key='listing_date',
    pre_hook="{{ delete_listing_nights_in_reach(" ~ longest_window_days ~ ") }}",
    post_hook="{{ stamp_nights_measured() }}",
) }}

{#- the listing nights recomputed, and the nights their windows read -#}
{%- if is_incremental() -%}
{%- set nights_in_play = "as_of_date >= " ~ as_of_date() ~ " - " ~ longest_window_days -%}
{%- else -%}
{%- set nights_in_play = "true" -%}
{%- endif -%}
{#- a version of a person's figures that holds on a night after the first listing night -#}
{%- set in_reach = "coalesce(valid_to, cast('9999-12-31' as date))"
    ~ " > (select min(contacts.listing_date) from contacts)" %}

with

outreach_log as (

    select * from {{ ref('outreach_log') }}
    where {{ nights_in_play }}

),

contacts as (

    select
        as_of_date as listing_date,
        account_id,
        campaign,
        ladder,
        next_step,
        list_segment as segment,
        outcome

    from outreach_log
    where outcome in ('listed', 'holdout', 'control')

),

-- conversions are judged on the figures of the people contacted only
contacted_accounts as (

    select distinct account_id from contacts

),

-- the versions of each contacted person's figures valid after the first listing night in
-- play: the change histories, not the per-night views (which repeat a version on every
-- night it holds)
customer_versions as (

    select * from {{ ref('customer_segments_history') }}
    where
        {{ in_reach }}
        and account_id in (select contacted_accounts.account_id from contacted_accounts)

),

journey_versions as (

    select * from {{ ref('journey_stages_history') }}
    where
        {{ in_reach }}
        and account_id in (select contacted_accounts.account_id from contacted_accounts)

),

distributor_versions as (

    select * from {{ ref('distributor_segments_history') }}
    where
        {{ in_reach }}
        and account_id in (select contacted_accounts.account_id from contacted_accounts)

),

ladder_settings as (

    select * from {{ ref('distributor_ladder_settings') }}

),

outreach_settings as (

    select * from {{ ref('outreach_settings') }}

),

built_nights as (

    select * from {{ ref('built_nights') }}

),

measured as (

    select max(as_of_date) as measured_through
    from built_nights

),

windows as (

    {% for days in window_days -%}
    select {{ days }} as window_days
    {% if not loop.last %}union all
    {% endif -%}
    {%- endfor %}
),

-- the first night built after each listing night
next_nights as (

    select
        listing_nights.listing_date,
        min(built_nights.as_of_date) as next_night

    from (select distinct contacts.listing_date from contacts) as listing_nights
    inner join built_nights on listing_nights.listing_date < built_nights.as_of_date
    group by listing_nights.listing_date

),

-- each contact with a night after it, and the person's figures on the listing night
listings as (

    select
        contacts.listing_date,
        contacts.account_id,
        contacts.campaign,
        contacts.ladder,
        contacts.next_step,
        next_nights.next_night,
        journey.purchases_to_date,
        journey.autoship_purchases_to_date,
        journey.sponsored_buyers,
        journey.revenue_to_date,
        coalesce(distributor.frontline_distributors, 0) as frontline_distributors,
        coalesce(distributor.frontline_leaders, 0) as frontline_leaders

    from contacts
    inner join next_nights on contacts.listing_date = next_nights.listing_date
    inner join journey_versions as journey
        on
            contacts.account_id = journey.account_id
            and contacts.listing_date >= journey.valid_from
            and contacts.listing_date < coalesce(journey.valid_to, cast('9999-12-31' as date))
    left join distributor_versions as distributor
        on
            contacts.account_id = distributor.account_id
            and contacts.listing_date >= distributor.valid_from
            and contacts.listing_date
            < coalesce(distributor.valid_to, cast('9999-12-31' as date))

),

-- per listing and version of a figure the step is judged by that shows the step taken, the
-- first night built after the listing night that the version holds on: its first night,
-- or the first night after the listing night when it began before
steps_taken as (

    select
        listings.listing_date,
        listings.account_id,
        listings.campaign,
        greatest(customer.valid_from, listings.next_night) as converted_on

    from listings
    inner join customer_versions as customer
        on
            listings.account_id = customer.account_id
            and listings.next_night < coalesce(customer.valid_to, cast('9999-12-31' as date))
            and customer.valid_from <= listings.listing_date + {{ longest_window_days }}
    where
        case
            when listings.next_step = 'autoship' then customer.has_active_autoship
            when listings.next_step = 'preferred_customer'
                then customer.account_type = 'preferred'
            else false
        end

    union all

    select
        listings.listing_date,
        listings.account_id,
        listings.campaign,
        greatest(journey.valid_from, listings.next_night) as converted_on

    from listings
    inner join journey_versions as journey
        on
            listings.account_id = journey.account_id
            and listings.next_night < coalesce(journey.valid_to, cast('9999-12-31' as date))
            and journey.valid_from <= listings.listing_date + {{ longest_window_days }}
    where
        -- keyed on the ladder and the step, not on the campaign's name (a seed value)
        case
            when
                listings.next_step in ('first_purchase', 'second_order', 'reactivation', 'at_risk')
                and listings.ladder = 'customer'
                then journey.purchases_to_date > listings.purchases_to_date
            when listings.next_step = 'autoship'
                then journey.autoship_purchases_to_date > listings.autoship_purchases_to_date
            when listings.next_step = 'referral'
                then journey.sponsored_buyers > listings.sponsored_buyers
            else false
        end

    union all

    select
        listings.listing_date,
        listings.account_id,
        listings.campaign,
        greatest(distributor.valid_from, listings.next_night) as converted_on

    from listings
    cross join ladder_settings
    inner join distributor_versions as distributor
        on
            listings.account_id = distributor.account_id
            and listings.next_night
            < coalesce(distributor.valid_to, cast('9999-12-31' as date))
            and distributor.valid_from <= listings.listing_date + {{ longest_window_days }}
    where
        case
            when listings.next_step = 'first_sale' then distributor.has_sold
            when listings.next_step = 'first_sponsor'
                then distributor.frontline_distributors > listings.frontline_distributors
            when listings.next_step = 'build_depth'
                then
                    distributor.sponsoring_frontline_distributors
                    >= ladder_settings.build_depth_sponsoring_fewer_than
            when listings.next_step = 'leadership'
                then distributor.frontline_leaders > listings.frontline_leaders
            when listings.next_step = 'reactivation' and listings.ladder = 'distributor'
                then distributor.last_volume_date > listings.listing_date
            else false
        end

),

-- the first night after the listing night, within the longest window, that shows the step
-- taken
conversions as (

    select
        listing_date,
        account_id,
        campaign,
        min(converted_on) as converted_on

    from steps_taken
    where converted_on <= listing_date + {{ longest_window_days }}
    group by listing_date, account_id, campaign

),

-- the last night built within each listing night's windows (none yet: no night after it)
window_last_nights as (

    select
        listing_nights.listing_date,
        windows.window_days,
        max(built_nights.as_of_date) as last_night

    from (select distinct contacts.listing_date from contacts) as listing_nights
    cross join windows
    inner join built_nights
        on
            listing_nights.listing_date < built_nights.as_of_date
            and listing_nights.listing_date + windows.window_days >= built_nights.as_of_date
    group by listing_nights.listing_date, windows.window_days

),

-- each contact's revenue (reporting currency) within each window: what their revenue to
-- date grew by from the listing night to the last night built in the window, as the
-- nights built show it (as the conversions are read), whichever night was built last
revenue_in_windows as (

    select
        listings.listing_date,
        listings.account_id,
        listings.campaign,
        window_last_nights.window_days,
        journey.revenue_to_date - listings.revenue_to_date as revenue

    from listings
    inner join window_last_nights
        on listings.listing_date = window_last_nights.listing_date
    inner join journey_versions as journey
        on
            listings.account_id = journey.account_id
            and window_last_nights.last_night >= journey.valid_from
            and window_last_nights.last_night
            < coalesce(journey.valid_to, cast('9999-12-31' as date))

),

contact_windows as (

    select
        contacts.listing_date,
        contacts.campaign,
        contacts.segment,
        contacts.outcome,
        windows.window_days,
        coalesce(revenue_in_windows.revenue, 0) as revenue,
        conversions.converted_on is not null
        and conversions.converted_on <= contacts.listing_date + windows.window_days
            as is_converted

    from contacts
    cross join windows
    left join conversions
        on
            contacts.listing_date = conversions.listing_date
            and contacts.account_id = conversions.account_id
            and contacts.campaign = conversions.campaign
    left join revenue_in_windows
        on
            contacts.listing_date = revenue_in_windows.listing_date
            and contacts.account_id = revenue_in_windows.account_id
            and contacts.campaign = revenue_in_windows.campaign
            and windows.window_days = revenue_in_windows.window_days

),

counted as (

    select
        listing_date,
        campaign,
        segment,
        window_days,
        {{ group_counts('listed') }},
        {{ group_counts('holdout') }},
        -- the global control group's people due for the campaign (programme_lift)
        {{ group_counts('control') }}

    from contact_windows
    group by listing_date, campaign, segment, window_days

),

{%- set is_complete = 'counted.listing_date + counted.window_days <= measured.measured_through' %}

final as (

    select
        measured.measured_through,
        counted.listing_date,
        counted.campaign,
        counted.segment,
        counted.window_days,
        {{ is_complete }} as is_window_complete,
        counted.listed,
        counted.holdout,
        counted.listed_converted,
        counted.holdout_converted,
        {{ conversion_lift(
            'counted.listed', 'counted.listed_converted',
            'counted.holdout', 'counted.holdout_converted',
            min_group_size='outreach_settings.min_lift_group_size',
            is_complete=is_complete,
        ) }},
        counted.listed_revenue,
        counted.holdout_revenue,
        counted.listed_revenue_squares,
        counted.holdout_revenue_squares,
        {{ revenue_lift(
            'counted.listed', 'counted.listed_revenue', 'counted.listed_revenue_squares',
            'counted.holdout', 'counted.holdout_revenue', 'counted.holdout_revenue_squares',
            is_complete=is_complete,
        ) }},
        counted.control,
        counted.control_converted,
        counted.control_revenue,
        counted.control_revenue_squares

    from counted
    cross join measured
    cross join outreach_settings

)

select * from final
