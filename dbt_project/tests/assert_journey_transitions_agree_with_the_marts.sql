-- Every transition of the nights this build wrote (D and the later nights it recomputed)
-- leads to the account's value on its night and comes from its value on
-- previous_as_of_date, as the marts hold them (journey_stages for stages,
-- customer_segments for segments). Reads only the nights those transitions name, so it
-- costs the same whatever the history. Fails with the transitions that disagree.

with

journey_transitions as (

    select * from {{ ref('journey_transitions') }}
    where as_of_date >= {{ as_of_date() }}

),

nights_compared as (

    select as_of_date from journey_transitions
    union
    select previous_as_of_date from journey_transitions

),

journey_stages as (

    select * from {{ ref('journey_stages') }}
    where as_of_date in (select nights_compared.as_of_date from nights_compared)

),

customer_segments as (

    select * from {{ ref('customer_segments') }}
    where as_of_date in (select nights_compared.as_of_date from nights_compared)

),

mart_values as (

    select
        as_of_date,
        account_id,
        'stage' as kind,
        stage as mart_value

    from journey_stages

    union all

    select
        as_of_date,
        account_id,
        'segment' as kind,
        segment as mart_value

    from customer_segments

),

compared as (

    select
        journey_transitions.account_id,
        journey_transitions.kind,
        journey_transitions.from_value,
        journey_transitions.to_value,
        values_before.mart_value as value_before,
        values_tonight.mart_value as value_tonight

    from journey_transitions
    left join mart_values as values_before
        on
            journey_transitions.account_id = values_before.account_id
            and journey_transitions.kind = values_before.kind
            and journey_transitions.previous_as_of_date = values_before.as_of_date
    left join mart_values as values_tonight
        on
            journey_transitions.account_id = values_tonight.account_id
            and journey_transitions.kind = values_tonight.kind
            and journey_transitions.as_of_date = values_tonight.as_of_date

),

final as (

    select * from compared
    where
        value_before is distinct from from_value
        or value_tonight is distinct from to_value

)

select * from final
