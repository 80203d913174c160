with

distributors as (

    select * from {{ ref('int_distributors_measured') }}

),

ladder_settings as (

    select * from {{ ref('distributor_ladder_settings') }}

),

final as (

    select
        distributors.*,
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
