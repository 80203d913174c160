{#-
    Use the custom schema name as-is (`marts`, not `main_marts`), so BI tools
    and the outreach writer find the tables under stable names.
    Models without a custom schema land in the target's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
