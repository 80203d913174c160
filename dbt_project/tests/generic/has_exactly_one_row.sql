{#-
    The model holds exactly one row. For settings seeds the models cross join: no row
    would silently empty their results, two rows would duplicate them. Fails with the
    row count otherwise.
-#}
{% test has_exactly_one_row(model) %}

with

row_count as (

    select count(*) as settings_rows
    from {{ model }}

),

final as (

    select settings_rows
    from row_count
    where settings_rows != 1

)

select * from final

{% endtest %}
