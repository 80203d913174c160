-- Each account's segment in journey_stages for night D is its segment in
-- customer_segments for D (that each holds one row per account of the snapshot is the
-- generic test one_row_per_snapshot_account on both). Fails with the accounts whose
-- segments differ or that only one of the two holds.

with

journey_stages as (

    select * from {{ ref('journey_stages') }}
    where as_of_date = {{ as_of_date() }}

),

customer_segments as (

    select * from {{ ref('customer_segments') }}
    where as_of_date = {{ as_of_date() }}

),

compared as (

    select
        coalesce(journey_stages.account_id, customer_segments.account_id) as account_id,
        journey_stages.segment as stage_segment,
        customer_segments.segment as customer_segment

    from journey_stages
    full outer join customer_segments
        on journey_stages.account_id = customer_segments.account_id

),

final as (

    select * from compared
    where stage_segment is distinct from customer_segment

)

select * from final
