{#-
    Outbound: the contract of the marketing e-mail tool. Keep the column order;
    new columns go at the end so importers keep working.

    The people listed (outreach_log outcome `listed`), every night. A view, so it is
    always in step with the log: the outreach writer reads night D and the later nights
    already built (`as_of_date >= D`; building D recomputes their logs, so their folders
    are written again when their lists changed), whichever night dbt built last.
    Contact details come from each night's own account snapshot.
-#}
{% if target.type == 'duckdb' -%}
{#- the purchase models' inputs of the people listed, on their nights -#}
{%- set listed_transactions %}
    select
        listed.as_of_date,
        history.account_id,
        history.first_transaction_date,
        history.last_transaction_date,
        history.repeat_transactions,
        history.repeat_transaction_value_mean

    from listed
    inner join {{ ref('customer_transactions_history') }} as history
        on
            listed.account_id = history.account_id
            and {{ valid_on_night('history', 'listed.as_of_date') }}
{%- endset %}
{%- endif %}

with

-- `not materialized`: read more than once, a CTE would be materialized whole (every night
-- listed) before a reader's filter on the night could reach it
listed as not materialized (

    select * from {{ ref('outreach_log') }}
    where outcome = 'listed'

),

-- the step and the segment of the people listed, on their nights: their versions found
-- by key in the change histories (the views next_steps and customer_segments expand
-- every account of a night from the whole history, which grows with the nights)
next_steps as not materialized (

    select * from {{ ref('next_steps_history') }}

),

customer_segments as not materialized (

    select * from {{ ref('customer_segments_history') }}

),

-- names and addresses as each night's own account snapshot had them: the version of the
-- account valid on the listed night, found by key (a change history expanded to every
-- night built would grow with the nights)
accounts_history as not materialized (

    select * from {{ ref('int_accounts_history') }}

),

-- the purchase models' scores of the people listed, on their nights, computed for them
-- only (customer_predictions scores every account of a night; none on the PostgreSQL
-- target, where customer_predictions has no rows)
predictions as (

    {% if target.type == 'duckdb' -%}
    {{ purchase_model_scores(listed_transactions) }}
    {%- else -%}
    select * from {{ ref('customer_predictions') }}
    {%- endif %}

),

final as (

    select
        listed.as_of_date,
        listed.campaign,
        listed.account_id,
        person.first_name,
        trim(person.email) as email,
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
            listed.account_id = next_steps.account_id
            and {{ valid_on_night('next_steps', 'listed.as_of_date') }}
    inner join customer_segments
        on
            listed.account_id = customer_segments.account_id
            and {{ valid_on_night('customer_segments', 'listed.as_of_date') }}
    inner join accounts_history as person
        on
            listed.account_id = person.account_id
            and {{ valid_on_night('person', 'listed.as_of_date') }}
    left join accounts_history as sponsor
        on
            next_steps.sponsor_account_id = sponsor.account_id
            and {{ valid_on_night('sponsor', 'listed.as_of_date') }}
    left join accounts_history as leader
        on
            next_steps.nearest_upline_leader_id = leader.account_id
            and {{ valid_on_night('leader', 'listed.as_of_date') }}
    left join predictions
        on
            listed.as_of_date = predictions.as_of_date
            and listed.account_id = predictions.account_id

)

select * from final
