with

accounts as (

    select * from {{ ref('int_accounts_snapshotted') }}

),

sponsor_lines as (

    select * from {{ ref('int_sponsor_lines_walked') }}

),

unknown_sponsors as (

    select
        account_id,
        'unknown_sponsor' as issue,
        sponsor_account_id,
        'sponsor ' || sponsor_account_id || ' is not an account of the snapshot' as detail

    from accounts
    where has_unknown_sponsor

),

-- accounts whose own sponsor line comes back to them
cycle_accounts as (

    select account_id
    from sponsor_lines
    where closes_cycle

),

-- their line, from the account up to itself again, e.g. `A -> B -> A`
cycle_lines as (

    select
        sponsor_lines.account_id,
        sponsor_lines.account_id || ' -> ' || string_agg(
            sponsor_lines.upline_account_id, ' -> ' order by sponsor_lines.upline_level
        ) as sponsor_line

    from sponsor_lines
    inner join cycle_accounts
        on sponsor_lines.account_id = cycle_accounts.account_id
    group by sponsor_lines.account_id

),

cycles as (

    select
        cycle_lines.account_id,
        'cycle' as issue,
        accounts.sponsor_account_id,
        'sponsor line runs in a cycle: ' || cycle_lines.sponsor_line as detail

    from cycle_lines
    inner join accounts
        on cycle_lines.account_id = accounts.account_id

),

cut_lines as (

    select
        sponsor_lines.account_id,
        'depth_limit' as issue,
        accounts.sponsor_account_id,
        'sponsor line is deeper than ' || cast(sponsor_lines.upline_level as varchar)
        || ' levels (var sponsor_tree_max_depth); walked up to '
        || sponsor_lines.upline_account_id as detail

    from sponsor_lines
    inner join accounts
        on sponsor_lines.account_id = accounts.account_id
    where sponsor_lines.is_cut_at_depth_limit

),

issues as (

    select * from unknown_sponsors
    union all
    select * from cycles
    union all
    select * from cut_lines

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        account_id,
        issue,
        sponsor_account_id,
        detail

    from issues

)

select * from final
