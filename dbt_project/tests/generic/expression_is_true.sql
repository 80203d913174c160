{#- Every row satisfies the SQL expression; fails with the rows that do not. -#}
{% test expression_is_true(model, expression, column_name=none) %}

with

failing_rows as (

    select *
    from {{ model }}
    where not ({{ expression }})

)

select * from failing_rows

{% endtest %}
