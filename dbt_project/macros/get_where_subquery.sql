{#-
    dbt's own `get_where_subquery`, with one addition: `__night__` in a test's `where`
    config stands for the night being built (`as_of_date()`), put in when the test runs.
    dbt renders a test's config when it parses the project, so a config that named the
    night itself would tie every parse to one night, and each new night would parse the
    whole project again.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace('__night__', as_of_date()) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
