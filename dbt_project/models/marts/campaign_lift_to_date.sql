{#-
    Lift pooled over listing nights: per campaign and conversion window, every listing
    night up to and including `through_listing_date` whose window is complete, summed over
    segments, with the rates and the lift of that pool (macro conversion_lift, as in
    campaign_performance). The night's report reads the row of each campaign with the
    latest `through_listing_date` on or before its night. A view over campaign_performance:
    always in step with it.
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
        campaign,
        window_days,
        listing_date,
        sum(listed) as listed,
        sum(holdout) as holdout,
        sum(listed_converted) as listed_converted,
        sum(holdout_converted) as holdout_converted,
        sum(listed_revenue) as listed_revenue,
        sum(holdout_revenue) as holdout_revenue,
        sum(listed_revenue_squares) as listed_revenue_squares,
        sum(holdout_revenue_squares) as holdout_revenue_squares

    from performance
    group by campaign, window_days, listing_date

),

pooled as (

    select
        campaign,
        window_days,
        listing_date as through_listing_date,
        count(*) over to_date as listing_nights,
        {{ group_sums_to_date('listed') }},
        {{ group_sums_to_date('holdout') }}

    from per_listing_night
    window to_date as (
        partition by campaign, window_days
        order by listing_date
        rows between unbounded preceding and current row
    )

),

final as (

    select
        pooled.campaign,
        pooled.window_days,
        pooled.through_listing_date,
        pooled.listing_nights,
        pooled.listed,
        pooled.holdout,
        pooled.listed_converted,
        pooled.holdout_converted,
        {{ conversion_lift(
            'pooled.listed', 'pooled.listed_converted', 'pooled.holdout', 'pooled.holdout_converted',
            min_group_size='outreach_settings.min_lift_group_size',
        ) }},
        pooled.listed_revenue,
        pooled.holdout_revenue,
        pooled.listed_revenue_squares,
        pooled.holdout_revenue_squares,
        {{ revenue_lift(
            'pooled.listed', 'pooled.listed_revenue', 'pooled.listed_revenue_squares',
            'pooled.holdout', 'pooled.holdout_revenue', 'pooled.holdout_revenue_squares',
        ) }}

    from pooled
    cross join outreach_settings

)

select * from final
