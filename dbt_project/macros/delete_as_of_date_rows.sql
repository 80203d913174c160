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


{#-
    Pre-hook of the marts whose night depends on the nights before it (outreach_log:
    cool-down and "is the step new"; journey_transitions): building night D recomputes D and every
    later night already built, so deleting starts at D. That keeps the result the same
    whatever order the nights were built in.
-#}
{% macro delete_nights_from_as_of_date() -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }} where as_of_date >= {{ as_of_date() }}
    {%- endif -%}
{%- endmacro %}


{#-
    The first night such a model recomputes, as a one-row select of `first_night`: night
    D on an incremental run (the pre-hook above deleted D and later), or the first night
    of `nights_relation` when the table is new, so a new table gets every night.
-#}
{% macro first_recomputed_night(nights_relation) -%}
    {%- if is_incremental() -%}
        select {{ as_of_date() }} as first_night
    {%- else -%}
        select coalesce(min(as_of_date), {{ as_of_date() }}) as first_night
        from {{ nights_relation }}
    {%- endif -%}
{%- endmacro %}
