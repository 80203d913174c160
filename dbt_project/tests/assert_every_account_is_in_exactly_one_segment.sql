-- Every account of the snapshot of night D is in exactly one segment of
-- customer_segments for D, and customer_segments holds no account outside the
-- snapshot (so the row count for D equals the number of accounts in the snapshot).
-- Fails with the accounts that break it.

with

snapshot_accounts as (

    select account_id from {{ ref('int_accounts_snapshotted') }}

),

segmented_accounts as (

    select * from {{ ref('customer_segments') }}
    where as_of_date = {{ as_of_date() }}

),

segment_counts as (

    select
        account_id,
        count(*) as segment_count

    from segmented_accounts
    group by account_id

),

compared as (

    select
        coalesce(snapshot_accounts.account_id, segment_counts.account_id) as account_id,
        snapshot_accounts.account_id is not null as is_in_snapshot,
        coalesce(segment_counts.segment_count, 0) as segment_count

    from snapshot_accounts
    full outer join segment_counts
        on snapshot_accounts.account_id = segment_counts.account_id

),

final as (

    select * from compared
    where not is_in_snapshot or segment_count != 1

)

select * from final
