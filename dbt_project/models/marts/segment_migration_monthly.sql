-- Rebuilt every night from the whole transition history (a table, not incremental):
-- it always agrees with journey_transitions.
{{ config(materialized='table') }}

with

transitions as (

    select * from {{ ref('journey_transitions') }}

),

segment_transitions as (

    select
        cast(date_trunc('month', as_of_date) as date) as as_of_month,
        account_id,
        from_value as from_segment,
        to_value as to_segment

    from transitions
    where kind = 'segment'

),

final as (

    -- `accounts` is a contract column name (a keyword in some dialects)
    select
        as_of_month,
        from_segment,
        to_segment,
        count(distinct account_id) as accounts,  -- noqa: RF04
        count(*) as migrations

    from segment_transitions
    group by as_of_month, from_segment, to_segment

)

select * from final
