{#-
    Arithmetic invariant: the sum of `column_name` in the model equals the sum of
    `compare_column` in `compare_model`, within `tolerance`.
    Filter the model with the test's `where` config and the compared model with
    `compare_condition` (a SQL boolean expression, optional; `__night__` in it stands for
    the night being built, as in a `where` config).
    Fails with one row holding both totals and their difference.
-#}
{% test equal_totals(model, column_name, compare_model, compare_column, compare_condition=none, tolerance=0.01) %}

with

model_total as (

    select coalesce(sum({{ column_name }}), 0) as total
    from {{ model }}

),

compare_total as (

    select coalesce(sum({{ compare_column }}), 0) as total
    from {{ compare_model }}
    {%- if compare_condition %}
    where {{ compare_condition | replace('__night__', as_of_date()) }}
    {%- endif %}

),

differences as (

    select
        model_total.total as model_total,
        compare_total.total as compare_total,
        abs(model_total.total - compare_total.total) as difference

    from model_total
    cross join compare_total

),

final as (

    select * from differences
    where difference > {{ tolerance }}

)

select * from final

{% endtest %}
