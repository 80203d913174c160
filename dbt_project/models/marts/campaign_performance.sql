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
{%- endif %}

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
    where outcome in ('listed', 'holdout')

),

-- conversions are judged on the figures of the people contacted only
contacted_accounts as (

    select distinct account_id from contacts

),

customer_segments as (

    select * from {{ ref('customer_segments') }}
    where
        {{ nights_in_play }}
        and account_id in (select contacted_accounts.account_id from contacted_accounts)

),

journey_stages as (

    select * from {{ ref('journey_stages') }}
    where
        {{ nights_in_play }}
        and account_id in (select contacted_accounts.account_id from contacted_accounts)

),

distributor_segments as (

    select * from {{ ref('distributor_segments') }}
    where
        {{ nights_in_play }}
        and account_id in (select contacted_accounts.account_id from contacted_accounts)

),

ladder_settings as (

    select * from {{ ref('distributor_ladder_settings') }}

),

measured as (

    select max(as_of_date) as measured_through
    from {{ ref('built_nights') }}

),

windows as (

    {% for days in window_days -%}
    select {{ days }} as window_days
    {% if not loop.last %}union all
    {% endif -%}
    {%- endfor %}
),

-- the figures a conversion is judged by, per person and night
account_nights as (

    select
        customer_segments.as_of_date,
        customer_segments.account_id,
        customer_segments.account_type,
        coalesce(customer_segments.has_active_autoship, false) as has_active_autoship,
        journey_stages.purchases_to_date,
        journey_stages.autoship_purchases_to_date,
        journey_stages.sponsored_buyers,
        coalesce(distributor_segments.has_sold, false) as has_sold,
        coalesce(distributor_segments.frontline_distributors, 0) as frontline_distributors,
        coalesce(
            distributor_segments.sponsoring_frontline_distributors, 0
        ) as sponsoring_frontline_distributors,
        coalesce(distributor_segments.frontline_leaders, 0) as frontline_leaders,
        distributor_segments.last_volume_date

    from customer_segments
    inner join journey_stages
        on
            customer_segments.as_of_date = journey_stages.as_of_date
            and customer_segments.account_id = journey_stages.account_id
    left join distributor_segments
        on
            customer_segments.as_of_date = distributor_segments.as_of_date
            and customer_segments.account_id = distributor_segments.account_id

),

-- the first night after the listing night, within the longest window, that shows the step
-- taken
conversions as (

    select
        contacts.listing_date,
        contacts.account_id,
        contacts.campaign,
        min(later.as_of_date) as converted_on

    from contacts
    cross join ladder_settings
    inner join account_nights as listing
        on
            contacts.account_id = listing.account_id
            and contacts.listing_date = listing.as_of_date
    inner join account_nights as later
        on
            contacts.account_id = later.account_id
            and contacts.listing_date < later.as_of_date
            and later.as_of_date <= contacts.listing_date + {{ longest_window_days }}
    where
        -- keyed on the ladder and the step, not on the campaign's name (a seed value)
        case
            when
                contacts.next_step in ('second_order', 'reactivation')
                and contacts.ladder = 'customer'
                then later.purchases_to_date > listing.purchases_to_date
            when contacts.next_step = 'autoship'
                then
                    later.has_active_autoship
                    or later.autoship_purchases_to_date > listing.autoship_purchases_to_date
            when contacts.next_step = 'preferred_customer' then later.account_type = 'preferred'
            when contacts.next_step = 'referral'
                then later.sponsored_buyers > listing.sponsored_buyers
            when contacts.next_step = 'first_sale' then later.has_sold
            when contacts.next_step = 'first_sponsor'
                then later.frontline_distributors > listing.frontline_distributors
            when contacts.next_step = 'build_depth'
                then
                    later.sponsoring_frontline_distributors
                    >= ladder_settings.build_depth_sponsoring_fewer_than
            when contacts.next_step = 'leadership'
                then later.frontline_leaders > listing.frontline_leaders
            when contacts.next_step = 'reactivation' and contacts.ladder = 'distributor'
                then later.last_volume_date > contacts.listing_date
            else false
        end
    group by contacts.listing_date, contacts.account_id, contacts.campaign

),

contact_windows as (

    select
        contacts.listing_date,
        contacts.campaign,
        contacts.segment,
        contacts.outcome,
        windows.window_days,
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

),

counted as (

    select
        listing_date,
        campaign,
        segment,
        window_days,
        count(*) filter (where outcome = 'listed') as listed,
        count(*) filter (where outcome = 'holdout') as holdout,
        count(*) filter (where outcome = 'listed' and is_converted) as listed_converted,
        count(*) filter (where outcome = 'holdout' and is_converted) as holdout_converted

    from contact_windows
    group by listing_date, campaign, segment, window_days

),

final as (

    select
        measured.measured_through,
        counted.listing_date,
        counted.campaign,
        counted.segment,
        counted.window_days,
        counted.listing_date + counted.window_days <= measured.measured_through
            as is_window_complete,
        counted.listed,
        counted.holdout,
        counted.listed_converted,
        counted.holdout_converted,
        {{ conversion_lift(
            'counted.listed', 'counted.listed_converted',
            'counted.holdout', 'counted.holdout_converted'
        ) }}

    from counted
    cross join measured

)

select * from final
