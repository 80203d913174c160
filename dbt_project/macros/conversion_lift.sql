{% macro conversion_lift(listed, listed_converted, holdout, holdout_converted) -%}
    {#-
        The conversion rates of the listed and the held-out people and the lift of listed
        over holdout, as four select-list columns. The one definition of lift: every model
        that shows one (campaign_performance per listing night, campaign_lift_to_date
        pooled over listing nights) renders it from its counts through this macro. A rate
        is null when its group is empty; a lift is null when either rate is (relative lift
        also when the holdout rate is 0). Floating point on every warehouse (PostgreSQL
        divides whole numbers into a whole number).
    -#}
    {%- set listed_rate = "cast(" ~ listed_converted ~ " as double precision) / nullif(" ~ listed ~ ", 0)" -%}
    {%- set holdout_rate = "cast(" ~ holdout_converted ~ " as double precision) / nullif(" ~ holdout ~ ", 0)" -%}
    {{ listed_rate }} as listed_conversion_rate,
    {{ holdout_rate }} as holdout_conversion_rate,
    ({{ listed_rate }}) - ({{ holdout_rate }}) as absolute_lift,
    (({{ listed_rate }}) - ({{ holdout_rate }})) / nullif({{ holdout_rate }}, 0) as relative_lift
{%- endmacro %}
