-- depends_on: {{ ref('built_nights') }}
{{ config(
    materialized='night_history',
    unique_key='account_id',
    upgrade_from={'relation': 'distributor_segments'},
) }}

with

laddered_distributors as (

    select * from {{ ref('int_distributors_laddered') }}

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        account_id,
        frontline_size,
        frontline_distributors,
        downline_size,
        depth,
        active_downline,
        personal_volume_in_window,
        group_volume_in_window,
        in_fast_start,
        first_sale_within_first_sale_days,
        first_sponsored_distributor_within_first_sponsor_days,
        sponsor_account_id,
        nearest_upline_leader_id,
        ladder_step,
        distributor_rank,
        account_status as status,
        enrolled_date,
        sponsoring_frontline_distributors,
        has_sold,
        first_sale_date,
        first_sponsored_distributor_date,
        is_dormant,
        last_volume_date,
        frontline_leaders,
        -- deprecated aliases, kept for release 0.2 only (README, "Renamed columns")
        personal_volume_in_window as personal_volume_12m,
        group_volume_in_window as group_volume_12m,
        first_sale_within_first_sale_days as first_sale_within_30_days,
        first_sponsored_distributor_within_first_sponsor_days
            as first_sponsored_distributor_within_60_days

    from laddered_distributors

)

select * from final
