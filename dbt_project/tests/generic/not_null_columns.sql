{#-
    None of the given columns is null: one test (one query, one dbt node) per model
    instead of a `not_null` per column, since a night runs these on every model and dbt's
    own cost per test node is most of what such a test costs. Fails with each row that
    holds a null, `null_columns` naming its null columns.
-#}
{% test not_null_columns(model, columns) %}

with

rows_with_nulls as (

    select
        concat_ws(
            ', ',
            {% for column in columns -%}
            case when {{ column }} is null then '{{ column }}' end{{ ',' if not loop.last }}
            {% endfor -%}
        ) as null_columns,
        *

    from {{ model }}
    where
        {% for column in columns -%}
        {{ column }} is null{{ ' or' if not loop.last }}
        {% endfor %}
)

select * from rows_with_nulls

{% endtest %}
