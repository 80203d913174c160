{#-
    Segment migrations per month. Building night D recomputes journey_transitions from D
    on, so this recomputes the month of D and every later month already built (pre-hook
    delete_months_from_as_of_date) from the transitions of those months only: it always
    agrees with journey_transitions, and a night does not read the months before.
-#}
{{ config(
    unique_key='as_of_month',
    pre_hook="{{ delete_months_from_as_of_date() }}",
) }}

with

transitions as (

    select * from {{ ref('journey_transitions') }}
    {%- if is_incremental() %}
    where as_of_date >= {{ first_month_recomputed() }}
    {%- endif %}

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
