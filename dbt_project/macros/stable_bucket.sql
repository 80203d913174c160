{#-
    A stable bucket 0 .. buckets-1 for a text key: the first 32 bits of the key's MD5,
    modulo `buckets`. The same key always falls in the same bucket, on every night, in
    every warehouse and in Python (int(md5(key).hexdigest()[:8], 16) % buckets), which
    is what makes the outreach holdout stable and checkable. The one dialect difference
    (turning hex into a number) sits here.
-#}
{% macro stable_bucket(key_sql, buckets) -%}
    {{ return(adapter.dispatch('stable_bucket')(key_sql, buckets)) }}
{%- endmacro %}

{% macro default__stable_bucket(key_sql, buckets) -%}
    {{ exceptions.raise_compiler_error(
        "stable_bucket has no implementation for the adapter '" ~ adapter.type()
        ~ "': add one in macros/stable_bucket.sql"
    ) }}
{%- endmacro %}

{% macro duckdb__stable_bucket(key_sql, buckets) -%}
    (cast(('0x' || substr(md5({{ key_sql }}), 1, 8)) as bigint) % {{ buckets }})
{%- endmacro %}

{% macro postgres__stable_bucket(key_sql, buckets) -%}
    ((('x' || lpad(substr(md5({{ key_sql }}), 1, 8), 16, '0'))::bit(64)::bigint) % {{ buckets }})
{%- endmacro %}
