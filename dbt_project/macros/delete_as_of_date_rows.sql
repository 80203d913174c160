{#-
    Pre-hook of the marts: on an incremental run, delete the rows of the
    as-of date being built before the new ones are inserted (in the same
    transaction). delete+insert on `as_of_date` does this too, but only for
    dates present in the new rows; this also covers a night whose new result
    is empty. Renders nothing on the first run or a full refresh.
-#}
{% macro delete_as_of_date_rows() -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }} where as_of_date = {{ as_of_date() }}
    {%- endif -%}
{%- endmacro %}
