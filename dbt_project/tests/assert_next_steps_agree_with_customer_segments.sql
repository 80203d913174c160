-- next_steps has a row for every account of customer_segments for night D and no other,
-- with that account's segment. Fails with the accounts that disagree.

with

next_steps as (

    select * from {{ ref('next_steps') }}
    where as_of_date = {{ as_of_date() }}

),

customer_segments as (

    select * from {{ ref('customer_segments') }}
    where as_of_date = {{ as_of_date() }}

),

final as (

    select
        coalesce(next_steps.account_id, customer_segments.account_id) as account_id,
        next_steps.segment as step_segment,
        customer_segments.segment as customer_segment

    from next_steps
    full outer join customer_segments
        on next_steps.account_id = customer_segments.account_id
    where customer_segments.segment is distinct from next_steps.segment

)

select * from final
