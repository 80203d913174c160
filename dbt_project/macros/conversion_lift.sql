{% macro conversion_lift(
    listed, listed_converted, holdout, holdout_converted, min_group_size, is_complete='true',
    comparison='holdout'
) -%}
    {{- select_list(conversion_lift_columns(
        listed, listed_converted, holdout, holdout_converted, min_group_size, is_complete,
        comparison
    )) -}}
{%- endmacro %}


{% macro conversion_lift_columns(
    listed, listed_converted, holdout, holdout_converted, min_group_size, is_complete='true',
    comparison='holdout'
) -%}
    {#-
        The conversion rates of the listed and the held-out people and the lift of listed
        over holdout, with its 95 % confidence interval and whether it can be read, as
        (name, SQL expression) pairs (conversion_lift renders them as select-list columns;
        the post-hook stamp_nights_measured sets them on the listing nights whose window
        completes without being recomputed). The one definition of lift: every model that
        shows one (campaign_performance per listing night, campaign_lift_to_date and
        programme_lift pooled over listing nights) renders it from its counts through
        this macro.

        Everything is empty while the window is not complete (`is_complete`, a SQL
        boolean): a conversion still to come is not a zero. A rate is empty when its
        group is empty; a lift and its interval are empty when either rate is (relative
        lift also when the holdout rate is 0). The interval is Newcombe's hybrid score
        interval for a difference of two independent proportions (method 10 of
        Newcombe 1998, Statistics in Medicine 17: 873-890), built from each group's
        Wilson score interval: it stays inside [-1, 1] and is defined for 0 and 100 %
        conversions and small groups, where the simple Wald interval is not.
        `is_group_too_small`: either group is below `min_group_size` (the caller's
        `min_lift_group_size` of the seed outreach_settings), a lift too noisy to read;
        `is_lift_significant`: a lift of a group large enough whose interval lies wholly
        above or below 0. Floating point on every warehouse (PostgreSQL divides whole
        numbers into a whole number).
        `comparison` names the group listed people are compared with in the column names:
        `holdout` (a campaign's holdout) or `control` (the global control group).
    -#}
    {%- set listed_rate = "cast(" ~ listed_converted ~ " as double precision) / nullif(" ~ listed ~ ", 0)" -%}
    {%- set holdout_rate = "cast(" ~ holdout_converted ~ " as double precision) / nullif(" ~ holdout ~ ", 0)" -%}
    {%- set lift = "(" ~ listed_rate ~ ") - (" ~ holdout_rate ~ ")" -%}
    {%- set low -%}
        ({{ lift }}) - sqrt(
            power(({{ listed_rate }}) - {{ _wilson_bound(listed_converted, listed, -1) }}, 2)
            + power({{ _wilson_bound(holdout_converted, holdout, 1) }} - ({{ holdout_rate }}), 2)
        )
    {%- endset -%}
    {%- set high -%}
        ({{ lift }}) + sqrt(
            power({{ _wilson_bound(listed_converted, listed, 1) }} - ({{ listed_rate }}), 2)
            + power(({{ holdout_rate }}) - {{ _wilson_bound(holdout_converted, holdout, -1) }}, 2)
        )
    {%- endset -%}
    {%- set too_small = "(" ~ listed ~ " < " ~ min_group_size ~ " or " ~ holdout ~ " < " ~ min_group_size ~ ")" -%}
    {%- set significant -%}
        case
            when {{ is_complete }} and {{ listed }} > 0 and {{ holdout }} > 0
                then not {{ too_small }} and ({{ low }} > 0 or {{ high }} < 0)
        end
    {%- endset -%}
    {{- return([
        ['listed_conversion_rate', 'case when ' ~ is_complete ~ ' then ' ~ listed_rate ~ ' end'],
        [comparison ~ '_conversion_rate', 'case when ' ~ is_complete ~ ' then ' ~ holdout_rate ~ ' end'],
        ['absolute_lift', 'case when ' ~ is_complete ~ ' then ' ~ lift ~ ' end'],
        ['relative_lift', 'case when ' ~ is_complete ~ ' then (' ~ lift ~ ') / nullif(' ~ holdout_rate ~ ', 0) end'],
        ['absolute_lift_low', 'case when ' ~ is_complete ~ ' then ' ~ low ~ ' end'],
        ['absolute_lift_high', 'case when ' ~ is_complete ~ ' then ' ~ high ~ ' end'],
        ['is_group_too_small', too_small],
        ['is_lift_significant', significant],
    ]) -}}
{%- endmacro %}


{#- The normal quantile of a two-sided 95 % interval, for every interval of this file. -#}
{% macro _z95() -%}
    1.959963984540054
{%- endmacro %}


{#-
    A bound of the Wilson score interval for a proportion of `successes` in `trials`, at
    95 %: the lower with `sign` -1, the upper with +1; empty for no trials.
-#}
{% macro _wilson_bound(successes, trials, sign) -%}
    {%- set n = "nullif(" ~ trials ~ ", 0)" -%}
    {%- set p = "(cast(" ~ successes ~ " as double precision) / " ~ n ~ ")" -%}
    {%- set z2 = "power(" ~ _z95() ~ ", 2)" -%}
    (
        ({{ p }} + {{ z2 }} / (2.0 * {{ n }}))
        + ({{ sign }}) * {{ _z95() }}
        * sqrt({{ p }} * (1 - {{ p }}) / {{ n }} + {{ z2 }} / (4.0 * {{ n }} * {{ n }}))
    ) / (1 + {{ z2 }} / {{ n }})
{%- endmacro %}


{% macro revenue_lift(
    listed, listed_revenue, listed_squares, holdout, holdout_revenue, holdout_squares,
    is_complete='true', comparison='holdout'
) -%}
    {{- select_list(revenue_lift_columns(
        listed, listed_revenue, listed_squares, holdout, holdout_revenue, holdout_squares,
        is_complete, comparison
    )) -}}
{%- endmacro %}


{% macro revenue_lift_columns(
    listed, listed_revenue, listed_squares, holdout, holdout_revenue, holdout_squares,
    is_complete='true', comparison='holdout'
) -%}
    {#-
        The value delivered, in money: revenue per listed person and per held-out person
        within the window (reporting currency), their difference with its 95 % interval,
        and the campaign's incremental revenue (the difference times the people listed).
        The interval is Welch's, in its large-sample form: the difference of two means
        plus or minus 1.96 standard errors, each group's variance estimated from its sum
        and sum of squares (so pooled rows can add them); empty for a group of fewer than
        two. Everything is empty while the window is not complete, or a group is empty.
    -#}
    {%- set listed_mean = "cast(" ~ listed_revenue ~ " as double precision) / nullif(" ~ listed ~ ", 0)" -%}
    {%- set holdout_mean = "cast(" ~ holdout_revenue ~ " as double precision) / nullif(" ~ holdout ~ ", 0)" -%}
    {%- set difference = "(" ~ listed_mean ~ ") - (" ~ holdout_mean ~ ")" -%}
    {%- set error -%}
        sqrt(
            {{ _variance(listed, listed_revenue, listed_squares) }} / nullif({{ listed }}, 0)
            + {{ _variance(holdout, holdout_revenue, holdout_squares) }} / nullif({{ holdout }}, 0)
        )
    {%- endset -%}
    {%- set low = "(" ~ difference ~ ") - " ~ _z95() ~ " * " ~ error -%}
    {%- set high = "(" ~ difference ~ ") + " ~ _z95() ~ " * " ~ error -%}
    {{- return([
        ['revenue_per_listed', 'case when ' ~ is_complete ~ ' then ' ~ listed_mean ~ ' end'],
        ['revenue_per_' ~ comparison, 'case when ' ~ is_complete ~ ' then ' ~ holdout_mean ~ ' end'],
        ['revenue_lift_per_person', 'case when ' ~ is_complete ~ ' then ' ~ difference ~ ' end'],
        ['revenue_lift_low', 'case when ' ~ is_complete ~ ' then ' ~ low ~ ' end'],
        ['revenue_lift_high', 'case when ' ~ is_complete ~ ' then ' ~ high ~ ' end'],
        ['incremental_revenue', 'case when ' ~ is_complete ~ ' then (' ~ difference ~ ') * ' ~ listed ~ ' end'],
    ]) -}}
{%- endmacro %}


{#- The sample variance (n - 1) of n values from their sum and sum of squares; empty for
    n < 2, never below 0 (rounding). -#}
{% macro _variance(n, total, squares) -%}
    (case
        when {{ n }} >= 2 then greatest(
            0,
            (
                cast({{ squares }} as double precision)
                - cast({{ total }} as double precision) * {{ total }} / {{ n }}
            ) / ({{ n }} - 1)
        )
    end)
{%- endmacro %}


{#- (name, expression) pairs as select-list columns: `expression as name`. -#}
{% macro select_list(columns) -%}
    {%- for name, expression in columns %}
    {{ expression }} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#-
    A group's (`listed`, `holdout` or `control`: the outcome of its contacts) people,
    those who converted, their revenue and its sum of squares, as aggregates over rows of
    contacts (`outcome`, `is_converted`, `revenue`), with the same types on every
    warehouse (sums of decimals widen differently).
-#}
{% macro group_counts(group) -%}
    count(*) filter (where outcome = '{{ group }}') as {{ group }},
    count(*) filter (where outcome = '{{ group }}' and is_converted) as {{ group }}_converted,
    cast(coalesce(sum(revenue) filter (where outcome = '{{ group }}'), 0) as decimal(18, 2))
        as {{ group }}_revenue,
    cast(
        coalesce(sum(revenue * revenue) filter (where outcome = '{{ group }}'), 0)
        as decimal(38, 4)
    ) as {{ group }}_revenue_squares
{%- endmacro %}


{#-
    The counts and revenue of a group (`listed`, `holdout` or `control`) summed over the
    window `to_date` of the caller (the listing nights up to the row's), as pooled lift
    reads them: whole numbers and decimals with the same types on every warehouse (a sum
    of counts is numeric on PostgreSQL).
-#}
{% macro group_sums_to_date(group) -%}
    cast(sum({{ group }}) over to_date as bigint) as {{ group }},
    cast(sum({{ group }}_converted) over to_date as bigint) as {{ group }}_converted,
    cast(sum({{ group }}_revenue) over to_date as decimal(18, 2)) as {{ group }}_revenue,
    cast(sum({{ group }}_revenue_squares) over to_date as decimal(38, 4))
        as {{ group }}_revenue_squares
{%- endmacro %}
