-- Warns (severity warn, see _singular__tests.yml) when the sponsor tree of night D has a
-- cycle, a line cut at the depth limit or an unknown sponsor: the night is built anyway,
-- the data engineers read the accounts in marts.sponsor_tree_issues.

with

sponsor_tree_issues as (

    select * from {{ ref('sponsor_tree_issues') }}
    where as_of_date = {{ as_of_date() }}

),

final as (

    select
        account_id,
        issue,
        detail

    from sponsor_tree_issues

)

select * from final
