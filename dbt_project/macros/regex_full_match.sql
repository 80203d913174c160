{#-
    True when the whole of the text expression matches the regular expression `pattern`
    (a string, without anchors or single quotes); NULL for NULL text. The dialect
    difference sits here: DuckDB has a full-match function, PostgreSQL's `~` finds the
    pattern anywhere, so the pattern is anchored there. Keep patterns to the syntax both
    engines read the same: classes, groups, quantifiers, `\.`.
-#}
{% macro regex_full_match(text_sql, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match')(text_sql, pattern)) }}
{%- endmacro %}

{% macro default__regex_full_match(text_sql, pattern) -%}
    {{ exceptions.raise_compiler_error(
        "regex_full_match has no implementation for the adapter '" ~ adapter.type()
        ~ "': add one in macros/regex_full_match.sql"
    ) }}
{%- endmacro %}

{% macro duckdb__regex_full_match(text_sql, pattern) -%}
    regexp_full_match({{ text_sql }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__regex_full_match(text_sql, pattern) -%}
    (({{ text_sql }}) ~ '^(?:{{ pattern }})$')
{%- endmacro %}
