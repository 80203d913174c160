{#-
    Post-hook of the incremental Python model purchase_model_fits: drop the staging
    tables `<model>__dbt_tmp<timestamp>` that dbt-duckdb leaves behind. On an incremental
    run it writes the model's DataFrame to such a table, flagged temporary, but a Python
    model's table is an ordinary one in the default schema and nothing drops it: one a
    night, at least one block (256 KiB) each, found in the year bench (issue 15). Drops
    every one left, including those of earlier nights.
-#}
{% macro drop_leftover_staging_tables() -%}
    {%- if execute and target.type == 'duckdb' -%}
        {%- set leftovers = run_query(
            "select database_name, schema_name, table_name from duckdb_tables() "
            ~ "where table_name like '" ~ this.identifier ~ "\\_\\_dbt\\_tmp%' escape '\\'"
        ) -%}
        {%- for row in leftovers.rows -%}
            {%- do run_query(
                'drop table if exists "' ~ row[0] ~ '"."' ~ row[1] ~ '"."' ~ row[2] ~ '"'
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
