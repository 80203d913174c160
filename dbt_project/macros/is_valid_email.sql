{#-
    True when the column holds a usable e-mail address: one @, a local part of
    letters, digits and . _ % + - (no leading, trailing or doubled dot) and a
    domain of dot-separated labels ending in a top-level domain of 2+ letters.
    NULL and empty strings are not valid (the expression never returns NULL).
-#}
{% macro is_valid_email(column) -%}
    coalesce(
        {{ regex_full_match(
            'trim(' ~ column ~ ')',
            '[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}'
        ) }},
        false
    )
{%- endmacro %}
