{#-
    The intermediate tables that every night rebuilds whole (materialized `table`) are
    the night's working state, not history: on DuckDB they go to the night's scratch
    database (attached as `scratch` in profiles.yml), a file beside the warehouse that
    the nightly build starts empty and removes once the build has passed. The published
    warehouse then keeps only what a later night or a reader needs (raw, the incremental
    and history models, marts), and no free blocks of tables dropped and rebuilt.
    Every other node, and every node on another adapter, lands in the target database.
-#}
{% macro generate_database_name(custom_database_name, node) -%}
    {%- if custom_database_name is not none -%}
        {{ custom_database_name | trim }}
    {%- elif target.type == 'duckdb'
        and node.resource_type == 'model'
        and node.config.materialized == 'table'
        and node.fqn[1] == 'intermediate' -%}
        scratch
    {%- else -%}
        {{ target.database }}
    {%- endif -%}
{%- endmacro %}
