{#- The run settings (dbt vars), read and validated in one place; their defaults are the
    vars of dbt_project.yml, and only there. -#}

{% macro as_of_date() -%}
    {#-
        The night being built, as a SQL date literal. Required: fails clearly when missing.
        The var `as_of_date`, or else the environment variable NEXT_STEPS_AS_OF_DATE (how
        the nightly build passes it). The environment is read only when executing, never
        while parsing: a var given on the command line makes dbt parse the whole project
        again whenever it changes, a night's date read at run time lets every night reuse
        the last parse.
    -#}
    {%- set value = var('as_of_date', none) -%}
    {%- if (value is none or (value | string | trim) == '') and execute -%}
        {%- set value = env_var('NEXT_STEPS_AS_OF_DATE', '') -%}
    {%- endif -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "The dbt var 'as_of_date' is required (the night being built, YYYY-MM-DD), "
                ~ "e.g. dbt build --vars '{\"as_of_date\": \"2024-06-30\"}'"
            ) }}
        {%- endif -%}
        {#- parsing (dbt parse, dbt ls) does not need a real date -#}
        {%- set value = '1970-01-01' -%}
    {%- endif -%}
    {%- set value = value | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])', value) -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var 'as_of_date' must be a date written YYYY-MM-DD, got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{- return("cast('" ~ value ~ "' as date)") -}}
{%- endmacro %}


{% macro purchase_window_months() -%}
    {#- Length of the purchase window in months (default in dbt_project.yml), validated as a positive integer. -#}
    {%- set value = var('purchase_window_months') | string | trim -%}
    {%- if not modules.re.fullmatch('[1-9][0-9]*', value) -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var 'purchase_window_months' must be a positive whole number of months, got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{- return(value | int) -}}
{%- endmacro %}


{% macro purchase_window_start() -%}
    {#- Exclusive start of the purchase window: the window is (D - N months, D]. -#}
    {{- return("cast(" ~ as_of_date() ~ " - interval '" ~ purchase_window_months() ~ " month' as date)") -}}
{%- endmacro %}


{% macro sponsor_tree_max_depth() -%}
    {#-
        How many levels up a sponsor line is walked at most (default in dbt_project.yml), validated as a
        positive whole number. Guards the recursive walk of the sponsor tree; a line cut
        at this depth is reported in sponsor_tree_issues.
    -#}
    {%- set value = var('sponsor_tree_max_depth') | string | trim -%}
    {%- if not modules.re.fullmatch('[1-9][0-9]*', value) -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var 'sponsor_tree_max_depth' must be a positive whole number of levels, got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{- return(value | int) -}}
{%- endmacro %}


{% macro reporting_currency() -%}
    {#- The reporting currency (default in dbt_project.yml) as a SQL string literal, validated as an ISO 4217 code. -#}
    {%- set value = var('reporting_currency') | string | trim | upper -%}
    {%- if not modules.re.fullmatch('[A-Z]{3}', value) -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var 'reporting_currency' must be a three-letter ISO 4217 code, got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{- return("'" ~ value ~ "'") -}}
{%- endmacro %}


{% macro conversion_window_days() -%}
    {#-
        The conversion windows in days (default in dbt_project.yml): how long after a
        listing night a person's step counts as taken. A list of distinct positive whole
        numbers, returned in ascending order; the shortest is the one the night's report
        shows, the longest bounds what campaign_performance recomputes each night.
    -#}
    {%- set value = var('conversion_window_days') -%}
    {%- set days = [] -%}
    {%- if value is iterable and value is not string and value is not mapping -%}
        {%- for item in value if modules.re.fullmatch('[1-9][0-9]*', item | string | trim) -%}
            {%- do days.append(item | string | trim | int) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if days | length == 0 or days | length != value | length or days | unique | list | length != days | length -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var 'conversion_window_days' must be a non-empty list of distinct positive "
            ~ "whole numbers of days, e.g. [30, 60, 90], got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{- return(days | sort) -}}
{%- endmacro %}


{% macro validate_run_settings() -%}
    {#-
        on-run-start hook: check every run setting before anything is built, so a
        missing or malformed var fails the run at once with a clear message instead
        of half-way through the DAG. Commands that do not build or test nights
        (seed, docs generate, ls, ...) need no as_of_date. Renders no SQL.
    -#}
    {%- if execute and flags.WHICH in ['build', 'run', 'test', 'compile', 'show'] -%}
        {%- do as_of_date() -%}
        {%- do purchase_window_months() -%}
        {%- do reporting_currency() -%}
        {%- do sponsor_tree_max_depth() -%}
        {%- do conversion_window_days() -%}
        {%- do purchase_models_enabled() -%}
    {%- endif -%}
{%- endmacro %}


{% macro purchase_models_enabled() -%}
    {#-
        Whether the purchase models are fitted (default in dbt_project.yml): true or false.
        The dbt Python model purchase_model_fits reads it from its config (a Python model
        sees no vars), where _marts__models.yml puts it.
    -#}
    {%- set value = var('purchase_models') | string | trim | lower -%}
    {%- if value not in ['true', 'false'] -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var 'purchase_models' must be true or false, got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{- return(value == 'true') -}}
{%- endmacro %}
