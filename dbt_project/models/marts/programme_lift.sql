{#-
    The whole programme against doing nothing: per conversion window and listing night,
    every campaign's listed people against the people of the global control group
    (seed outreach_settings, `global_control_percent`, off as shipped) who were due for a
    campaign, pooled over campaigns and over every listing night up to
    `through_listing_date` whose window is complete. Each person is judged by the step
    of the campaign they were due for, as in campaign_performance. Rates, the lift with
    its 95 % interval and the revenue per person with its interval as there (macros
    conversion_lift and revenue_lift), compared with the control group. Empty while the
    control group is off. A view over campaign_performance.
-#}
{{ config(materialized='view') }}

with

performance as (

    select * from {{ ref('campaign_performance') }}
    where is_window_complete

),

outreach_settings as (

    select * from {{ ref('outreach_settings') }}

),

per_listing_night as (

    select
        window_days,
        listing_date,
        sum(listed) as listed,
        sum(control) as control,
        sum(listed_converted) as listed_converted,
        sum(control_converted) as control_converted,
        sum(listed_revenue) as listed_revenue,
        sum(control_revenue) as control_revenue,
        sum(listed_revenue_squares) as listed_revenue_squares,
        sum(control_revenue_squares) as control_revenue_squares

    from performance
    group by window_days, listing_date
    having sum(control) > 0

),

pooled as (

    select
        window_days,
        listing_date as through_listing_date,
        count(*) over to_date as listing_nights,
        {{ group_sums_to_date('listed') }},
        {{ group_sums_to_date('control') }}

    from per_listing_night
    window to_date as (
        partition by window_days
        order by listing_date
        rows between unbounded preceding and current row
    )

),

final as (

    select
        pooled.window_days,
        pooled.through_listing_date,
        pooled.listing_nights,
        pooled.listed,
        pooled.control,
        pooled.listed_converted,
        pooled.control_converted,
        {{ conversion_lift(
            'pooled.listed', 'pooled.listed_converted', 'pooled.control', 'pooled.control_converted',
            min_group_size='outreach_settings.min_lift_group_size', comparison='control',
        ) }},
        pooled.listed_revenue,
        pooled.control_revenue,
        {{ revenue_lift(
            'pooled.listed', 'pooled.listed_revenue', 'pooled.listed_revenue_squares',
            'pooled.control', 'pooled.control_revenue', 'pooled.control_revenue_squares',
            comparison='control',
        ) }}

    from pooled
    cross join outreach_settings

)

select * from final
