{#- Every non-null value of the column is a value the export contract allows for
    `file`.`field` (macro export_contract_values): a check that follows the contract
    instead of repeating its list. Returns each value outside it, with its row count. -#}
{% test in_export_contract(model, column_name, file, field) %}

    {%- set allowed = export_contract_values(file, field) -%}

    select
        {{ column_name }} as value_outside_the_contract,
        count(*) as n_records

    from {{ model }}
    where
        {{ column_name }} is not null
        and {{ column_name }} not in (
            {%- for value in allowed %}'{{ value }}'{{ ", " if not loop.last }}{% endfor -%}
        )
    group by {{ column_name }}

{% endtest %}
