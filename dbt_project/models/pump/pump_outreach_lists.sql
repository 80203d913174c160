{#-
    Outbound: the contract of the marketing e-mail tool. Keep the column order;
    new columns go at the end so importers keep working.

    The people listed (outreach_log outcome `listed`), every night. A view, so it is
    always in step with the log: the outreach writer reads night D and the later nights
    already built (`as_of_date >= D`; building D recomputes their logs, so their folders
    are written again when their lists changed), whichever night dbt built last.
    Contact details come from each night's own account snapshot.
-#}
with

outreach_log as (

    select * from {{ ref('outreach_log') }}

),

next_steps as (

    select * from {{ ref('next_steps') }}

),

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

accounts_by_night as (

    {{ nights_of_history(
        ref('int_accounts_history'),
        ['account_id', 'first_name', 'language', 'country', 'email'],
    ) }}

),

listed as (

    select * from outreach_log
    where outcome = 'listed'

),

-- what the purchase models predict for the people listed on their nights (none on the
-- PostgreSQL target, where customer_predictions has no rows)
predictions as (

    select
        as_of_date,
        account_id,
        p_alive,
        expected_next_purchase_date,
        predicted_value_365d

    from {{ ref('customer_predictions') }}
    where as_of_date in (select listed.as_of_date from listed)

),

-- each listed night's account snapshot (every night has its own export)
snapshot_accounts as (

    select
        as_of_date,
        account_id,
        first_name,
        language,
        country,
        trim(email) as email

    from accounts_by_night
    where as_of_date in (select listed.as_of_date from listed)

),

final as (

    select
        listed.as_of_date,
        listed.campaign,
        listed.account_id,
        person.first_name,
        person.email,
        person.language,
        person.country,
        listed.list_segment as segment,
        listed.next_step,
        -- deprecated names of orders_in_window and revenue_in_window, kept in place for
        -- release 0.2 only (README, "Renamed columns")
        customer_segments.orders_in_window as orders_12m,
        customer_segments.revenue_in_window as revenue_12m,
        customer_segments.last_purchase_date as last_order_date,
        next_steps.reason,
        listed.due_because,
        listed.touchpoint_day,
        next_steps.sponsor_account_id,
        sponsor.first_name as sponsor_first_name,
        next_steps.nearest_upline_leader_id as upline_leader_account_id,
        leader.first_name as upline_leader_first_name,
        customer_segments.orders_in_window,
        customer_segments.revenue_in_window,
        predictions.p_alive,
        predictions.expected_next_purchase_date,
        predictions.predicted_value_365d,
        next_steps.offer_sku,
        next_steps.offer_reason

    from listed
    inner join next_steps
        on
            listed.as_of_date = next_steps.as_of_date
            and listed.account_id = next_steps.account_id
    inner join customer_segments
        on
            listed.as_of_date = customer_segments.as_of_date
            and listed.account_id = customer_segments.account_id
    inner join snapshot_accounts as person
        on
            listed.as_of_date = person.as_of_date
            and listed.account_id = person.account_id
    left join snapshot_accounts as sponsor
        on
            listed.as_of_date = sponsor.as_of_date
            and next_steps.sponsor_account_id = sponsor.account_id
    left join snapshot_accounts as leader
        on
            listed.as_of_date = leader.as_of_date
            and next_steps.nearest_upline_leader_id = leader.account_id
    left join predictions
        on
            listed.as_of_date = predictions.as_of_date
            and listed.account_id = predictions.account_id

)

select * from final
