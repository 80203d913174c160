with

distributors as (

    select * from {{ ref('int_distributors_measured') }}

),

ladder_settings as (

    select * from {{ ref('distributor_ladder_settings') }}

),

final as (

    select
        distributors.account_id,
        distributors.sponsor_account_id,
        distributors.account_status,
        distributors.distributor_rank,
        distributors.enrolled_date,
        distributors.frontline_size,
        distributors.frontline_distributors,
        distributors.sponsoring_frontline_distributors,
        distributors.frontline_leaders,
        distributors.downline_size,
        distributors.depth,
        distributors.active_downline,
        distributors.personal_volume_12m,
        distributors.group_volume_12m,
        distributors.first_sale_date,
        distributors.first_sponsored_distributor_date,
        distributors.last_volume_date,
        distributors.nearest_upline_leader_id,
        distributors.in_fast_start,
        distributors.first_sale_within_30_days,
        distributors.first_sponsored_distributor_within_60_days,
        distributors.has_sold,
        distributors.is_dormant,
        -- the distributor ladder: the first step that matches wins; a distributor who
        -- matches none (sold, 1 or more frontline distributors, not yet wide-but-shallow
        -- nor a leader) gets no step
        case
            when distributors.is_dormant
                then 'reactivation'
            when distributors.distributor_rank >= ladder_settings.leadership_min_rank
                then 'leadership'
            when
                distributors.frontline_distributors
                >= ladder_settings.build_depth_min_frontline_distributors
                and distributors.sponsoring_frontline_distributors
                < ladder_settings.build_depth_sponsoring_fewer_than
                then 'build_depth'
            when distributors.has_sold and distributors.frontline_distributors = 0
                then 'first_sponsor'
            when not distributors.has_sold
                then 'first_sale'
        end as ladder_step

    from distributors
    cross join ladder_settings

)

select * from final
