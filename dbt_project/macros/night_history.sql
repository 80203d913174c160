{#-
    Materialization `night_history`: a table that keeps what the model says about each
    key on every night built, as changes (slowly changing dimension, type 2): one row per
    key per run of nights with the same values, valid on the built nights in
    [valid_from, valid_to) (valid_to NULL: still so on the latest night built).

    The table has the model's columns (without the night), then valid_from and valid_to.
    The model's SQL gives night D's rows, with the night in column `night_column`
    (default as_of_date); `unique_key` names the key columns. The nights built, D
    included, are the model `built_nights` (a model using this materialization declares
    `-- depends_on: {{ ref('built_nights') }}`). A night costs in proportion to the keys,
    never to the nights before it: only the versions that touch night D or the next night
    built after it are rewritten, and only for the keys whose row on D is not the one
    their version valid on D already holds.

    Building D replaces what an earlier build said about D: re-runs, nights built out of
    order and backfills give the same table as building the nights in order (versions
    are always merged as far as they go). Plain SQL, for DuckDB and PostgreSQL alike.

    A column the model gained after the table was made can be named in config
    `added_columns` (name: SQL type): a table without it gets it with `alter table`,
    empty on the nights built before. Any other change of columns stops the build.
-#}
{% materialization night_history, default %}
    {%- set night_column = config.get('night_column', 'as_of_date') -%}
    {%- set unique_key = config.require('unique_key') -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- set prefix = '__' ~ this.identifier -%}
    {%- set columns = [] -%}
    {%- for name in get_columns_in_query(sql) if name | lower != night_column -%}
        {%- do columns.append(adapter.quote(name)) -%}
    {%- endfor -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('tonight') -%}
        drop table if exists {{ prefix }}_tonight;
        create temporary table {{ prefix }}_tonight as
        select {{ columns | join(', ') }} from ({{ sql }}) as night_rows
    {%- endcall %}

    {%- if existing is not none -%}
        {%- set kept = [] -%}
        {%- for column in adapter.get_columns_in_relation(existing) if column.name not in ('valid_from', 'valid_to') -%}
            {%- do kept.append(adapter.quote(column.name)) -%}
        {%- endfor -%}
        {%- for name, data_type in config.get('added_columns', {}).items()
            if adapter.quote(name) in columns and adapter.quote(name) not in kept -%}
            {% call statement('add_' ~ name) -%}
                alter table {{ target_relation }} add column {{ adapter.quote(name) }} {{ data_type }}
            {%- endcall %}
            {%- do kept.append(adapter.quote(name)) -%}
        {%- endfor -%}
        {%- if kept | sort != columns | sort -%}
            {{ exceptions.raise_compiler_error(
                this ~ " keeps the columns " ~ (kept | join(', ')) ~ " but the model now gives "
                ~ (columns | join(', ')) ~ ": a change history cannot be rebuilt from the "
                ~ "nights before (the exports are not kept). Add or drop the columns with "
                ~ "alter table (a new column is empty on earlier nights), then build again."
            ) }}
        {%- endif -%}
    {%- endif -%}

    {%- if existing is none -%}
        {% call statement('create') -%}
            create table {{ target_relation }} as
            select
                {{ columns | join(', ') }},
                cast(null as date) as valid_from,
                cast(null as date) as valid_to
            from {{ prefix }}_tonight
            where 1 = 0
        {%- endcall %}
        {#- The empty table is committed before any row goes in. In DuckDB 2.0.0 a column
            that `create table as` made all NULL (valid_from here) stays NULL to every later
            query of the process when a row group or more goes into the table in the same
            transaction: a 10M-order first night saw every view over a new history empty
            for the rest of its build (tests/dbt/test_night_history.py). -#}
        {{ adapter.commit() }}
    {%- endif -%}
    {%- if existing is none or night_history_is_empty(target_relation) -%}
        {#- also when a build that created the table failed before filling it -#}
        {{ night_history_upgrade(target_relation, prefix, keys, columns) }}
    {%- endif -%}

    {% call statement('main') -%}
        {{ merge_night_into_history(target_relation, prefix, ref('built_nights'), keys, columns) }}
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{#- True when `history` holds no row (one row read, whatever its size). -#}
{% macro night_history_is_empty(history) -%}
    {%- set rows = run_query('select 1 from ' ~ history ~ ' limit 1') -%}
    {{- return(rows | length == 0) -}}
{%- endmacro %}


{#-
    A new `night_history` table on a warehouse of release 0.2, which kept a full copy per
    night (config `upgrade_from`: `relation`, a table of this schema with a row per key
    per night, or `schema` and `relation` of any relation; `night_column`, default the
    model's; `select`, extra expressions for columns the old relation lacks): every night
    it holds before D goes into the history, oldest first, so no night is lost.
    `built_nights` takes those nights too (`built_nights_upgrade`).
-#}
{% macro night_history_upgrade(history, prefix, keys, columns) -%}
    {%- set upgrade = config.get('upgrade_from') -%}
    {%- if upgrade -%}
        {%- set night_column = upgrade.get('night_column', config.get('night_column', 'as_of_date')) -%}
        {%- set old = adapter.get_relation(
            database=history.database,
            schema=upgrade.get('schema', history.schema),
            identifier=upgrade['relation'],
        ) -%}
        {%- if old is not none and (old.is_table or upgrade.get('schema')) -%}
            {%- set old_rows -%}
                select old_relation.*{{ ', ' ~ upgrade['select'] if upgrade.get('select') }}
                from {{ old }} as old_relation
                where {{ night_column }} < {{ as_of_date() }}
            {%- endset -%}
            {%- set old_nights = run_query(
                'select distinct ' ~ night_column ~ ' from (' ~ old_rows ~ ') as rows_ order by 1'
            ).columns[0].values() -%}
            {%- for old_night in old_nights -%}
                {%- set night = "cast('" ~ old_night ~ "' as date)" -%}
                {% call statement('upgrade_' ~ loop.index) -%}
                    drop table if exists {{ prefix }}_earlier;
                    create temporary table {{ prefix }}_earlier as
                    select {{ columns | join(', ') }} from ({{ old_rows }}) as night_rows
                    where {{ night_column }} = {{ night }};
                    {{ merge_night_into_history(
                        history, prefix, ref('built_nights'), keys, columns, night, prefix ~ '_earlier'
                    ) }}
                {%- endcall %}
            {%- endfor -%}
            {%- do log(history ~ ': ' ~ (old_nights | length) ~ ' earlier nights taken from ' ~ old, info=true) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#-
    The nights a warehouse of release 0.2 built, from its full copy per night of
    next_steps (a table then, a view over next_steps_history now), for the first build of
    `built_nights`.
-#}
{% macro built_nights_upgrade() -%}
    {%- if execute and not is_incremental() -%}
        {%- set old = adapter.get_relation(database=this.database, schema=this.schema, identifier='next_steps') -%}
        {%- if old is not none and old.is_table %}
    union
    select distinct as_of_date from {{ old }} where as_of_date < {{ as_of_date() }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#-
    Replace night D (`night`, default the as-of date) in `history` by the rows of the
    temporary table `rows` (default `<prefix>_tonight`; `columns`, the `keys` among them,
    no dates), given `nights`, the nights built (D included). See `night_history`.
-#}
{% macro merge_night_into_history(history, prefix, nights, keys, columns, night=none, rows=none) -%}
    {%- set d = night or as_of_date() -%}
    {%- set rows = rows or prefix ~ '_tonight' -%}
    {%- set key_list = keys | join(', ') -%}
    {%- set next_night = '(select next_night from ' ~ prefix ~ '_next_night)' -%}
    {%- set touches -%}
        (valid_from <= {{ d }} and (valid_to is null or valid_to > {{ d }}))
        or valid_to = {{ d }}
        or valid_from = {{ next_night }}
    {%- endset -%}
    drop table if exists {{ prefix }}_next_night;
    create temporary table {{ prefix }}_next_night as
    select min(as_of_date) as next_night from {{ nights }} where as_of_date > {{ d }};

    -- the keys whose row tonight differs from their version valid on D, or that only one
    -- of the two has: the versions of every other key stay as they are (their pieces
    -- would merge back into the same versions), so a night rewrites the keys that
    -- changed, not every key
    drop table if exists {{ prefix }}_changed;
    create temporary table {{ prefix }}_changed as
    select
        {%- for key in keys %}
        coalesce(tonight.{{ key }}, valid_on_d.{{ key }}) as {{ key }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ rows }} as tonight
    full outer join (
        select * from {{ history }}
        where valid_from <= {{ d }} and (valid_to is null or valid_to > {{ d }})
    ) as valid_on_d
        on
            {%- for key in keys %}
            {{ 'and ' if not loop.first }}tonight.{{ key }} = valid_on_d.{{ key }}
            {%- endfor %}
    where
        tonight.{{ keys[0] }} is null
        or valid_on_d.{{ keys[0] }} is null
        {%- for column in columns if column.strip('"') not in keys %}
        or tonight.{{ column }} is distinct from valid_on_d.{{ column }}
        {%- endfor %};

    {%- if _is_new_latest_night(history, nights, d) %}

    -- D is later than every night built and every date of a version (tonight's build of
    -- the latest night, the usual case): a changed key's open version ends at D and its
    -- row tonight starts a new one. An update, not a delete and an insert: a deleted row
    -- stays in the file until its row group is rewritten.
    update {{ history }} as history_rows
    set valid_to = {{ d }}
    where valid_to is null and {{ _is_changed_key(prefix, keys, 'history_rows') }};

    insert into {{ history }} ({{ columns | join(', ') }}, valid_from, valid_to)
    select {{ columns | join(', ') }}, {{ d }}, cast(null as date)
    from {{ rows }} as tonight
    where {{ _is_changed_key(prefix, keys, 'tonight') }}
    {%- else %}

    -- their versions that touch D or the next night: on D, ending at D, starting next night
    drop table if exists {{ prefix }}_touched;
    create temporary table {{ prefix }}_touched as
    select * from {{ history }} as history_rows
    where ({{ touches }}) and {{ _is_changed_key(prefix, keys, 'history_rows') }};

    delete from {{ history }} as history_rows
    where ({{ touches }}) and {{ _is_changed_key(prefix, keys, 'history_rows') }};

    insert into {{ history }} ({{ columns | join(', ') }}, valid_from, valid_to)
    with

    pieces as (

        -- what was so before D, up to D
        select valid_from as piece_start, {{ d }} as piece_end, {{ columns | join(', ') }}
        from {{ prefix }}_touched
        where valid_from < {{ d }}

        union all

        -- what was so from the next night on
        select {{ next_night }} as piece_start, valid_to as piece_end, {{ columns | join(', ') }}
        from {{ prefix }}_touched
        where
            {{ next_night }} is not null
            and valid_from <= {{ next_night }}
            and (valid_to is null or valid_to > {{ next_night }})

        union all

        -- tonight, up to the next night
        select {{ d }} as piece_start, {{ next_night }} as piece_end, {{ columns | join(', ') }}
        from {{ rows }} as tonight
        where {{ _is_changed_key(prefix, keys, 'tonight') }}

    ),

    marked as (

        select
            pieces.*,
            case
                when
                    lag(piece_end) over by_key = piece_start
                    {%- for column in columns if column.strip('"') not in keys %}
                    and lag({{ column }}) over by_key is not distinct from {{ column }}
                    {%- endfor %}
                    then 0
                else 1
            end as starts_version
        from pieces
        window by_key as (partition by {{ key_list }} order by piece_start)

    ),

    numbered as (

        select
            marked.*,
            sum(starts_version) over (
                partition by {{ key_list }} order by piece_start rows unbounded preceding
            ) as version_number
        from marked

    ),

    spans as (

        select
            {{ key_list }},
            version_number,
            min(piece_start) as valid_from,
            case when count(*) = count(piece_end) then max(piece_end) end as valid_to
        from numbered
        group by {{ key_list }}, version_number

    )

    select
        {%- for column in columns %}
        numbered.{{ column }},
        {%- endfor %}
        spans.valid_from,
        spans.valid_to
    from numbered
    inner join spans
        on
            numbered.version_number = spans.version_number
            {%- for key in keys %}
            and numbered.{{ key }} = spans.{{ key }}
            {%- endfor %}
    where numbered.starts_version = 1
    {%- endif %}
{%- endmacro %}


{#- True when no night built is later than D and no version starts or ends on D or
    later: building D then only closes and opens versions. -#}
{% macro _is_new_latest_night(history, nights, d) -%}
    {%- if not execute -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set query -%}
        select
            not exists (select 1 from {{ nights }} where as_of_date > {{ d }})
            and not exists (
                select 1 from {{ history }} where valid_from >= {{ d }} or valid_to >= {{ d }}
            )
    {%- endset -%}
    {{- return(run_query(query).columns[0].values()[0]) -}}
{%- endmacro %}


{#- The row of `relation` has a key of `<prefix>_changed`. -#}
{% macro _is_changed_key(prefix, keys, relation) -%}
    exists (
        select 1 from {{ prefix }}_changed as changed
        where
            {%- for key in keys %}
            {{ 'and ' if not loop.first }}changed.{{ key }} = {{ relation }}.{{ key }}
            {%- endfor %}
    )
{%- endmacro %}


{#-
    The rows of a `night_history` model on every night built: one row per key per night,
    as the model gave them on that night: `night_column`, then `columns` (the model's
    columns, named, so the views keep their column order on any adapter and leave the
    versions' dates out: a past night's rows never change when later nights are built).
-#}
{% macro nights_of_history(history, columns, night_column='as_of_date') -%}
    select
        nights.as_of_date as {{ night_column }},
        {%- for column in columns %}
        history.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('built_nights') }} as nights
    inner join {{ history }} as history
        on {{ valid_on_night('history', 'nights.as_of_date') }}
{%- endmacro %}


{#-
    The condition that the version `history` (an alias of a `night_history` table) is the
    one valid on the built night `night`. A reader that needs a few keys on their own
    nights joins the history by key and this condition, instead of expanding every night
    built for every key (nights_of_history), which grows with the nights.
-#}
{% macro valid_on_night(history, night) -%}
    {#- two inequalities, no OR: a range join, not a comparison of every pair -#}
    {{ night }} >= {{ history }}.valid_from and {{ night }} < coalesce({{ history }}.valid_to, cast('9999-12-31' as date))
{%- endmacro %}
