with

accounts as (

    select * from {{ ref('int_accounts_snapshotted') }}

),

sponsor_lines as (

    select * from {{ ref('int_sponsor_lines_walked') }}

),

purchase_totals as (

    select * from {{ ref('int_purchases_aggregated_to_accounts') }}

),

ladder_settings as (

    select * from {{ ref('distributor_ladder_settings') }}

),

accounts_with_purchases as (

    select
        accounts.account_id,
        accounts.account_type,
        accounts.account_status,
        accounts.sponsor_account_id,
        accounts.distributor_rank,
        accounts.enrolled_date,
        coalesce(purchase_totals.orders_in_window, 0) as orders_in_window,
        coalesce(purchase_totals.volume_in_window, 0) as volume_in_window,
        purchase_totals.first_purchase_date,
        purchase_totals.last_volume_date

    from accounts
    left join purchase_totals
        on accounts.account_id = purchase_totals.account_id

),

-- the steps of the sponsor lines that are part of the tree: the step that meets an
-- account a second time (a cycle) is where the walk stopped, not a real upline
tree_steps as (

    select * from sponsor_lines
    where not is_repeated_upline

),

-- every account below an upline account, with the figures of the account below
downline_members as (

    select
        tree_steps.upline_account_id,
        tree_steps.upline_level,
        accounts_with_purchases.account_id,
        accounts_with_purchases.account_type,
        accounts_with_purchases.distributor_rank,
        accounts_with_purchases.enrolled_date,
        accounts_with_purchases.orders_in_window,
        accounts_with_purchases.volume_in_window,
        accounts_with_purchases.first_purchase_date

    from tree_steps
    inner join accounts_with_purchases
        on tree_steps.account_id = accounts_with_purchases.account_id

),

frontline_sizes as (

    select
        upline_account_id as account_id,
        count(*) as frontline_size

    from downline_members
    where upline_level = 1
    group by upline_account_id

),

frontline_figures as (

    select
        downline_members.upline_account_id as account_id,
        count(*) as frontline_size,
        count(*) filter (
            where downline_members.account_type = 'distributor'
        ) as frontline_distributors,
        count(*) filter (
            where downline_members.account_type = 'distributor' and sponsoring.frontline_size > 0
        ) as sponsoring_frontline_distributors,
        count(*) filter (
            where downline_members.account_type = 'distributor'
            and downline_members.distributor_rank >= ladder_settings.leadership_min_rank
        ) as frontline_leaders,
        min(downline_members.first_purchase_date) as first_sale_date,
        min(downline_members.enrolled_date) filter (
            where downline_members.account_type = 'distributor'
        ) as first_sponsored_distributor_date

    from downline_members
    left join frontline_sizes as sponsoring
        on downline_members.account_id = sponsoring.account_id
    cross join ladder_settings
    where downline_members.upline_level = 1
    group by downline_members.upline_account_id

),

downline_figures as (

    select
        upline_account_id as account_id,
        count(*) as downline_size,
        max(upline_level) as depth,
        count(*) filter (where orders_in_window > 0) as active_downline,
        sum(volume_in_window) as downline_volume_in_window

    from downline_members
    group by upline_account_id

),

upline_leaders_ranked as (

    select
        tree_steps.account_id,
        tree_steps.upline_account_id,
        row_number() over (
            partition by tree_steps.account_id
            order by tree_steps.upline_level asc
        ) as leader_rank

    from tree_steps
    inner join accounts as uplines
        on tree_steps.upline_account_id = uplines.account_id
    cross join ladder_settings
    where uplines.distributor_rank >= ladder_settings.leadership_min_rank

),

nearest_upline_leaders as (

    select
        account_id,
        upline_account_id as nearest_upline_leader_id

    from upline_leaders_ranked
    where leader_rank = 1

),

distributors as (

    select * from accounts_with_purchases
    where account_type = 'distributor'

),

final as (

    select
        distributors.account_id,
        distributors.sponsor_account_id,
        distributors.account_status,
        distributors.distributor_rank,
        distributors.enrolled_date,
        cast(coalesce(frontline_figures.frontline_size, 0) as bigint) as frontline_size,
        cast(
            coalesce(frontline_figures.frontline_distributors, 0) as bigint
        ) as frontline_distributors,
        cast(
            coalesce(frontline_figures.sponsoring_frontline_distributors, 0) as bigint
        ) as sponsoring_frontline_distributors,
        cast(coalesce(frontline_figures.frontline_leaders, 0) as bigint) as frontline_leaders,
        cast(coalesce(downline_figures.downline_size, 0) as bigint) as downline_size,
        cast(coalesce(downline_figures.depth, 0) as integer) as depth,
        cast(coalesce(downline_figures.active_downline, 0) as bigint) as active_downline,
        cast(distributors.volume_in_window as decimal(18, 4)) as personal_volume_in_window,
        cast(
            distributors.volume_in_window + coalesce(downline_figures.downline_volume_in_window, 0)
            as decimal(18, 4)
        ) as group_volume_in_window,
        frontline_figures.first_sale_date,
        frontline_figures.first_sponsored_distributor_date,
        distributors.last_volume_date,
        nearest_upline_leaders.nearest_upline_leader_id,
        coalesce(
            {{ as_of_date() }} - distributors.enrolled_date
            between 0 and ladder_settings.fast_start_days,
            false
        ) as in_fast_start,
        coalesce(
            frontline_figures.first_sale_date - distributors.enrolled_date
            <= ladder_settings.first_sale_days,
            false
        ) as first_sale_within_first_sale_days,
        coalesce(
            frontline_figures.first_sponsored_distributor_date - distributors.enrolled_date
            <= ladder_settings.first_sponsor_days,
            false
        ) as first_sponsored_distributor_within_first_sponsor_days,
        frontline_figures.first_sale_date is not null as has_sold,
        -- no personal volume in (D - N months, D], and a distributor for at least N months
        coalesce(
            distributors.enrolled_date <= cast(
                {{ as_of_date() }} - ladder_settings.dormant_months * interval '1 month' as date
            )
            and (
                distributors.last_volume_date is null
                or distributors.last_volume_date <= cast(
                    {{ as_of_date() }} - ladder_settings.dormant_months * interval '1 month' as date
                )
            ),
            false
        ) as is_dormant

    from distributors
    cross join ladder_settings
    left join frontline_figures
        on distributors.account_id = frontline_figures.account_id
    left join downline_figures
        on distributors.account_id = downline_figures.account_id
    left join nearest_upline_leaders
        on distributors.account_id = nearest_upline_leaders.account_id

)

select * from final
