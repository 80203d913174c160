-- The sponsor tree of night D, walked up from every account with a recursive CTE.
-- Portable SQL (DuckDB and PostgreSQL): `with recursive`, a column list, `||`, `position`.
-- Guards: a line stops at the first account met twice (a cycle; the path of the line is
-- tracked) and at the depth limit (var `sponsor_tree_max_depth`), so bad data cannot make
-- the walk run forever. Sponsors that are not in the snapshot are not walked to.

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

-- one row per step up a line: level 1 is the account's sponsor, level 2 the sponsor's
-- sponsor, ...; sponsor_path lists the accounts of the line so far, '/'-separated
sponsor_line_steps (
    account_id,
    upline_account_id,
    upline_level,
    sponsor_path,
    is_repeated_upline
) as (

    select
        account_id,
        sponsor_account_id,
        1,
        cast('/' || account_id || '/' || sponsor_account_id || '/' as varchar),
        account_id = sponsor_account_id

    from sponsorships

    union all

    select
        sponsor_line_steps.account_id,
        sponsorships.sponsor_account_id,
        sponsor_line_steps.upline_level + 1,
        cast(sponsor_line_steps.sponsor_path || sponsorships.sponsor_account_id || '/' as varchar),
        position('/' || sponsorships.sponsor_account_id || '/' in sponsor_line_steps.sponsor_path) > 0

    from sponsor_line_steps
    inner join sponsorships
        on sponsor_line_steps.upline_account_id = sponsorships.account_id
    where
        not sponsor_line_steps.is_repeated_upline
        and sponsor_line_steps.upline_level < {{ sponsor_tree_max_depth() }}

),

final as (

    select
        sponsor_line_steps.account_id,
        sponsor_line_steps.upline_account_id,
        sponsor_line_steps.upline_level,
        sponsor_line_steps.is_repeated_upline,
        sponsor_line_steps.is_repeated_upline
        and sponsor_line_steps.upline_account_id = sponsor_line_steps.account_id as closes_cycle,
        (
            not sponsor_line_steps.is_repeated_upline
            and sponsor_line_steps.upline_level >= {{ sponsor_tree_max_depth() }}
            and sponsor_line_steps.upline_account_id in (
                select sponsorships.account_id from sponsorships
            )
        ) as is_cut_at_depth_limit,
        replace(trim(both '/' from sponsor_line_steps.sponsor_path), '/', ' -> ') as sponsor_line

    from sponsor_line_steps

)

select * from final
