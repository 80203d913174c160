{#-
    The combination of the given columns is unique: a compound primary key.
    Fails with one row per duplicated combination.
-#}
{% test unique_combination(model, combination_of_columns) %}

with

duplicated_combinations as (

    select
        {% for column in combination_of_columns -%}
        {{ column }},
        {% endfor -%}
        count(*) as row_count

    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1

)

select * from duplicated_combinations

{% endtest %}
