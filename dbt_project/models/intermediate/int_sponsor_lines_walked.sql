-- The sponsor tree of night D, walked up from every account with a recursive CTE.
-- Portable SQL (DuckDB and PostgreSQL): `with recursive`, a column list, window functions.
-- Guards: a line stops at the first account met twice (a cycle) and at the depth limit
-- (var `sponsor_tree_max_depth`), so bad data cannot make the walk run forever. Sponsors
-- that are not in the snapshot are not walked to.
--
-- Every account has at most one sponsor, so a line can only meet an account twice once
-- it has reached a cycle. The walk itself therefore only counts levels (it stops at the
-- depth limit), and only the lines that reach a cycle are searched for their first
-- account met twice and cut there: the same steps as a walk that tracks the accounts of
-- every line, without building a path for millions of steps.

with recursive

accounts as (

    select * from {{ ref('int_accounts_snapshotted') }}

),

sponsorships as (

    -- who enrolled whom, for sponsors that are accounts of the snapshot
    select
        account_id,
        sponsor_account_id

    from accounts
    where
        sponsor_account_id is not null
        and not has_unknown_sponsor

),

-- one row per step up a line, up to the depth limit: level 1 is the account's sponsor,
-- level 2 the sponsor's sponsor, ...
sponsor_line_steps (
    account_id,
    upline_account_id,
    upline_level
) as (

    select
        account_id,
        sponsor_account_id,
        1

    from sponsorships

    union all

    select
        sponsor_line_steps.account_id,
        sponsorships.sponsor_account_id,
        sponsor_line_steps.upline_level + 1

    from sponsor_line_steps
    inner join sponsorships
        on sponsor_line_steps.upline_account_id = sponsorships.account_id
    where sponsor_line_steps.upline_level < {{ sponsor_tree_max_depth() }}

),

-- accounts on a cycle: their own line comes back to them within the depth limit
cycle_members as (

    select distinct account_id
    from sponsor_line_steps
    where upline_account_id = account_id

),

-- the lines that reach a cycle: only they can meet an account twice
lines_into_cycles as (

    select distinct sponsor_line_steps.account_id
    from sponsor_line_steps
    inner join cycle_members
        on sponsor_line_steps.upline_account_id = cycle_members.account_id

),

steps_into_cycles as (

    select
        sponsor_line_steps.account_id,
        sponsor_line_steps.upline_account_id,
        sponsor_line_steps.upline_level,
        row_number() over (
            partition by sponsor_line_steps.account_id, sponsor_line_steps.upline_account_id
            order by sponsor_line_steps.upline_level
        ) as upline_occurrence

    from sponsor_line_steps
    inner join lines_into_cycles
        on sponsor_line_steps.account_id = lines_into_cycles.account_id

),

-- on those lines, the first step that meets an account already on the line: the account
-- itself, or an upline met at a lower level; the walk stops there
repeated_steps as (

    select
        account_id,
        min(upline_level) as repeated_level

    from steps_into_cycles
    where
        upline_account_id = account_id
        or upline_occurrence > 1
    group by account_id

),

walked_steps as (

    select
        sponsor_line_steps.account_id,
        sponsor_line_steps.upline_account_id,
        sponsor_line_steps.upline_level,
        coalesce(
            sponsor_line_steps.upline_level = repeated_steps.repeated_level, false
        ) as is_repeated_upline

    from sponsor_line_steps
    left join repeated_steps
        on sponsor_line_steps.account_id = repeated_steps.account_id
    where
        repeated_steps.repeated_level is null
        or sponsor_line_steps.upline_level <= repeated_steps.repeated_level

),

final as (

    select
        walked_steps.account_id,
        walked_steps.upline_account_id,
        walked_steps.upline_level,
        walked_steps.is_repeated_upline,
        walked_steps.is_repeated_upline
        and walked_steps.upline_account_id = walked_steps.account_id as closes_cycle,
        (
            not walked_steps.is_repeated_upline
            and walked_steps.upline_level >= {{ sponsor_tree_max_depth() }}
            and walked_steps.upline_account_id in (
                select sponsorships.account_id from sponsorships
            )
        ) as is_cut_at_depth_limit

    from walked_steps

)

select * from final
