{#-
    An e-mail address as it is compared: spaces trimmed from both ends and lower-cased,
    NULL when nothing is left. `Alice@Example.com` and ` alice@example.com ` are one
    address (one inbox, one person); nothing else is rewritten (`a.b+news@x.com` and
    `ab@x.com` stay two addresses: no provider's rules for dots or tags are assumed).
-#}
{% macro normalised_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}
