{#- The enums of the nightly export, for dbt's tests (generic test `in_export_contract`).
    The export contract states them in its Great Expectations suites,
    expectations/<file>.json (expect_column_values_to_be_in_set); dbt cannot read those
    files, so this is their one copy in the dbt project, and
    tests/test_one_place_per_rule.py fails when it and the suites differ. -#}
{% macro export_contract_values(file, column) %}
    {%- set values = {
        'accounts.account_type': ['retail', 'preferred', 'distributor'],
        'accounts.status': ['active', 'inactive', 'terminated'],
        'orders.order_type': ['standard', 'autoship'],
        'orders.status': ['completed', 'cancelled', 'returned'],
    } -%}
    {%- set key = file ~ '.' ~ column -%}
    {%- if key not in values -%}
        {{ exceptions.raise_compiler_error("export_contract_values: no enum " ~ key) }}
    {%- endif -%}
    {{ return(values[key]) }}
{% endmacro %}
