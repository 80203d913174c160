{#-
    Pre-hook of the marts: on an incremental run, delete the rows of the
    as-of date being built before the new ones are inserted (in the same
    transaction). delete+insert on `as_of_date` does this too, but only for
    dates present in the new rows; this also covers a night whose new result
    is empty. Renders nothing on the first run or a full refresh, and for a
    mart keyed on another column (campaign_performance, by listing night).
-#}
{% macro delete_as_of_date_rows() -%}
    {%- if execute and is_incremental() and config.get('unique_key') == 'as_of_date' -%}
        delete from {{ this }} where as_of_date = {{ as_of_date() }}
    {%- endif -%}
{%- endmacro %}


{#-
    Pre-hook of the marts whose night depends on the nights before it (outreach_log:
    cool-down and "is the step new"; journey_transitions): building night D recomputes D and every
    later night already built, so deleting starts at D. That keeps the result the same
    whatever order the nights were built in.
-#}
{% macro delete_nights_from_as_of_date() -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }} where as_of_date >= {{ as_of_date() }}
    {%- endif -%}
{%- endmacro %}


{#-
    The first day of the month of night D, as a date: segment_migration_monthly recomputes
    that month and the later ones (journey_transitions recomputes D and later nights).
-#}
{% macro first_month_recomputed() -%}
    cast(date_trunc('month', {{ as_of_date() }}) as date)
{%- endmacro %}


{#-
    Pre-hook of segment_migration_monthly: on an incremental run, delete the month of D
    and every later month, which the model then recomputes (a month left without
    migrations keeps no row).
-#}
{% macro delete_months_from_as_of_date() -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }} where as_of_month >= {{ first_month_recomputed() }}
    {%- endif -%}
{%- endmacro %}


{#-
    The first night such a model recomputes, as a one-row select of `first_night`: night
    D on an incremental run (the pre-hook above deleted D and later), or the first night
    of `nights_relation` when the table is new, so a new table gets every night.
-#}
{% macro first_recomputed_night(nights_relation) -%}
    {%- if is_incremental() -%}
        select {{ as_of_date() }} as first_night
    {%- else -%}
        select coalesce(min(as_of_date), {{ as_of_date() }}) as first_night
        from {{ nights_relation }}
    {%- endif -%}
{%- endmacro %}


{#-
    Pre-hook of campaign_performance: delete the listing nights whose longest conversion
    window reaches night D (listing_date >= D - longest_window_days): building D changes
    the figures of D and the contacts of D and later nights, so the model recomputes
    them. The other listing nights keep their rows.
-#}
{% macro delete_listing_nights_in_reach(longest_window_days) -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }}
        where listing_date >= {{ as_of_date() }} - {{ longest_window_days }}
    {%- endif -%}
{%- endmacro %}


{#-
    Post-hook of campaign_performance: stamp every row with the nights measured so far
    (the latest night built), as the model computes them for the rows it writes:
    the listing nights it kept were measured through an earlier night. Their rates, lift
    and revenue figures are set again with it (macros conversion_lift_columns and
    revenue_lift_columns, as the model computes them): a window that completes on a
    night that does not recompute its listing night (nights built with a gap) shows them
    from then on.
-#}
{% macro stamp_nights_measured() -%}
    {%- if execute -%}
        {%- set complete = "performance.listing_date + performance.window_days <= nights.measured_through" -%}
        update {{ this }} as performance
        set
            measured_through = nights.measured_through,
            is_window_complete = {{ complete }}
            {%- for name, expression in conversion_lift_columns(
                'performance.listed', 'performance.listed_converted',
                'performance.holdout', 'performance.holdout_converted',
                'settings.min_lift_group_size', complete,
            ) + revenue_lift_columns(
                'performance.listed', 'performance.listed_revenue',
                'performance.listed_revenue_squares', 'performance.holdout',
                'performance.holdout_revenue', 'performance.holdout_revenue_squares', complete,
            ) %},
            {{ name }} = {{ expression }}
            {%- endfor %}
        from
            (select max(as_of_date) as measured_through from {{ ref('built_nights') }}) as nights,
            (select min_lift_group_size from {{ ref('outreach_settings') }}) as settings
        where performance.measured_through is distinct from nights.measured_through
    {%- endif -%}
{%- endmacro %}


{#-
    For a model that recomputes night D and the later nights, comparing each night with
    the night before it in a view over a change history (`history`): the earliest night
    it reads, as a date literal, for a filter on that view. On an incremental run that is
    the latest night built before D that `history` holds (or D); otherwise none (every
    night). The view gives a row per account per night built, so a filter that reads a
    CTE or a subquery is applied only after the view has expanded every night ever built
    (a year of nights: 365 copies of every account); a literal date is pushed into the
    view and expands only the nights in play.
-#}
{% macro first_night_in_play(history) -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return(none) -}}
    {%- endif -%}
    {#- A version holds on the built nights in [valid_from, valid_to): the latest night
        before D that any version holds on is the latest built night before the largest
        least(valid_to, D). Two aggregates, no join of nights with versions (that join
        grows with nights times accounts). -#}
    {%- set query -%}
        select max(nights.as_of_date)
        from {{ ref('built_nights') }} as nights
        where nights.as_of_date < (
            select max(least(coalesce(history.valid_to, {{ as_of_date() }}), {{ as_of_date() }}))
            from {{ history }} as history
            where history.valid_from < {{ as_of_date() }}
        )
    {%- endset -%}
    {%- set previous = run_query(query).columns[0].values()[0] -%}
    {{- return(as_of_date() if previous is none else "cast('" ~ previous ~ "' as date)") -}}
{%- endmacro %}
