-- Every account of the snapshot of night D has exactly one row in journey_stages for D,
-- no other account has one, and its segment there is its segment in customer_segments.
-- Fails with the accounts that break it.

with

snapshot_accounts as (

    select account_id from {{ ref('int_accounts_snapshotted') }}

),

journey_stages as (

    select * from {{ ref('journey_stages') }}
    where as_of_date = {{ as_of_date() }}

),

customer_segments as (

    select * from {{ ref('customer_segments') }}
    where as_of_date = {{ as_of_date() }}

),

stage_counts as (

    select
        account_id,
        count(*) as stage_rows,
        min(segment) as stage_segment

    from journey_stages
    group by account_id

),

compared as (

    select
        coalesce(snapshot_accounts.account_id, stage_counts.account_id) as account_id,
        snapshot_accounts.account_id is not null as is_in_snapshot,
        coalesce(stage_counts.stage_rows, 0) as stage_rows,
        stage_counts.stage_segment,
        customer_segments.segment as customer_segment

    from snapshot_accounts
    full outer join stage_counts
        on snapshot_accounts.account_id = stage_counts.account_id
    left join customer_segments
        on
            coalesce(snapshot_accounts.account_id, stage_counts.account_id)
            = customer_segments.account_id

),

final as (

    select * from compared
    where
        not is_in_snapshot
        or stage_rows != 1
        or stage_segment is distinct from customer_segment

)

select * from final
