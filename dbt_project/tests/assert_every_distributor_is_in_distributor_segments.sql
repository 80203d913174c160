-- Every distributor of the snapshot of night D (account_type = distributor) has exactly
-- one row in distributor_segments for D, and no other account has one.
-- Fails with the accounts that break it.

with

snapshot_distributors as (

    select account_id from {{ ref('int_accounts_snapshotted') }}
    where account_type = 'distributor'

),

distributor_segments as (

    select * from {{ ref('distributor_segments') }}
    where as_of_date = {{ as_of_date() }}

),

segment_counts as (

    select
        account_id,
        count(*) as segment_rows

    from distributor_segments
    group by account_id

),

compared as (

    select
        coalesce(snapshot_distributors.account_id, segment_counts.account_id) as account_id,
        snapshot_distributors.account_id is not null as is_distributor,
        coalesce(segment_counts.segment_rows, 0) as segment_rows

    from snapshot_distributors
    full outer join segment_counts
        on snapshot_distributors.account_id = segment_counts.account_id

),

final as (

    select * from compared
    where not is_distributor or segment_rows != 1

)

select * from final
