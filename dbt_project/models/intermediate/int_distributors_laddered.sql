with

distributors as (

    select * from {{ ref('int_distributors_measured') }}

),

ladder_settings as (

    select * from {{ ref('distributor_ladder_settings') }}

),

rules as (

    select * from {{ ref('distributor_ladder_rules') }}

),

-- the facts the rungs test, each defined once from the settings' thresholds
distributor_facts as (

    select
        distributors.account_id,
        distributors.is_dormant,
        coalesce(
            distributors.distributor_rank >= ladder_settings.leadership_min_rank, false
        ) as is_leader,
        distributors.frontline_distributors
        >= ladder_settings.build_depth_min_frontline_distributors
        and distributors.sponsoring_frontline_distributors
        < ladder_settings.build_depth_sponsoring_fewer_than as is_wide_but_shallow,
        distributors.has_sold,
        distributors.frontline_distributors > 0 as has_frontline_distributor

    from distributors
    cross join ladder_settings

),

-- the distributor ladder is the seed distributor_ladder_rules: a rung matches when each
-- condition it fills in holds; the matching rung of lowest priority wins, and a
-- distributor whom no rung matches gets no step
matching_rungs as (

    select
        distributor_facts.account_id,
        rules.rule_id,
        rules.next_step,
        row_number() over (
            partition by distributor_facts.account_id
            order by rules.priority asc, rules.rule_id asc
        ) as match_rank

    from distributor_facts
    inner join rules
        on
            (
                rules.is_dormant_equals is null
                or distributor_facts.is_dormant = rules.is_dormant_equals
            )
            and (
                rules.is_leader_equals is null
                or distributor_facts.is_leader = rules.is_leader_equals
            )
            and (
                rules.is_wide_but_shallow_equals is null
                or distributor_facts.is_wide_but_shallow = rules.is_wide_but_shallow_equals
            )
            and (
                rules.has_sold_equals is null
                or distributor_facts.has_sold = rules.has_sold_equals
            )
            and (
                rules.has_frontline_distributor_equals is null
                or distributor_facts.has_frontline_distributor
                = rules.has_frontline_distributor_equals
            )

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
        distributors.personal_volume_in_window,
        distributors.group_volume_in_window,
        distributors.first_sale_date,
        distributors.first_sponsored_distributor_date,
        distributors.last_volume_date,
        distributors.nearest_upline_leader_id,
        distributors.in_fast_start,
        distributors.first_sale_within_first_sale_days,
        distributors.first_sponsored_distributor_within_first_sponsor_days,
        distributors.has_sold,
        distributors.is_dormant,
        matching_rungs.next_step as ladder_step,
        matching_rungs.rule_id as ladder_rule_id

    from distributors
    left join matching_rungs
        on
            distributors.account_id = matching_rungs.account_id
            and matching_rungs.match_rank = 1

)

select * from final
