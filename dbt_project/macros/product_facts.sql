{#-
    The product facts kept up to date (int_order_lines_resolved, int_account_products,
    int_account_first_baskets): an account's rows there depend only on its own orders and
    order lines as known on D, so a night recomputes the accounts whose rows may differ
    from those of the night the table was last built for, not every order line of the
    history.

    The night a table was last built for is recorded by its post-hook
    (remember_night_built) in `<schema>.incremental_nights_built`, in the same working
    copy as the table: a night that fails is thrown away whole, table and record alike.
-#}

{% macro nights_built_relation() -%}
    {{- return(api.Relation.create(
        database=this.database, schema=this.schema, identifier='incremental_nights_built'
    )) -}}
{%- endmacro %}


{% macro remember_night_built() -%}
    {#- Post-hook: record D as the night this model was last built for. -#}
    {%- set nights = nights_built_relation() -%}
    create table if not exists {{ nights }} (
        model_name varchar(256) not null,
        as_of_date date not null
    );
    delete from {{ nights }} where model_name = '{{ this.identifier }}';
    insert into {{ nights }} (model_name, as_of_date)
    values ('{{ this.identifier }}', {{ as_of_date() }})
{%- endmacro %}


{% macro product_facts_built_before() -%}
    {#- On an incremental run: the night the table was last built for, as a date literal,
        when that night is before D. None (recompute every account) on a new table, a
        full refresh, a table with no night recorded, or when D is that night or an
        earlier one (a night re-run, or built out of order). -#}
    {%- if not (execute and is_incremental()) -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set nights = nights_built_relation() -%}
    {%- if adapter.get_relation(
        database=nights.database, schema=nights.schema, identifier=nights.identifier
    ) is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set query -%}
        select max(as_of_date) from {{ nights }}
        where model_name = '{{ this.identifier }}'
        having max(as_of_date) < {{ as_of_date() }}
    {%- endset -%}
    {%- set found = run_query(query).columns[0].values() -%}
    {{- return(none if (found | length == 0 or found[0] is none)
        else "cast('" ~ found[0] ~ "' as date)") -}}
{%- endmacro %}


{% macro product_facts_accounts_to_recompute(built) -%}
    {#- The accounts whose product facts on D may differ from those on `built` (an earlier
        night): the accounts of every version of the orders with a version or order lines
        exported after `built` (up to D), with a held version (whether it counts follows the
        snapshot of D), or whose order date passed since `built` (a purchase counts from its
        order date). Every version's account: an order that moved leaves its old account
        too. -#}
    select distinct versions.account_id
    from {{ ref('stg_commerce__orders') }} as versions
    where
        versions.export_date <= {{ as_of_date() }}
        and versions.order_id in (
            select changed.order_id
            from {{ ref('stg_commerce__orders') }} as changed
            where
                changed.export_date <= {{ as_of_date() }}
                and (changed.export_date > {{ built }} or changed.was_held)

            union all

            select lines.order_id
            from {{ ref('stg_commerce__order_lines') }} as lines
            where
                lines.export_date <= {{ as_of_date() }}
                and lines.export_date > {{ built }}

            union all

            select dated.order_id
            from {{ ref('int_orders_deduplicated') }} as dated
            where
                dated.order_date <= {{ as_of_date() }}
                and dated.order_date > {{ built }}
        )
{%- endmacro %}


{% macro product_facts_lines_in_play() -%}
    {#- What the product facts kept per account (int_account_products,
        int_account_first_baskets) read of int_order_lines_resolved, which is built first:
        the lines of the accounts to recompute, or every line when they recompute every
        account. -#}
    {%- set built = product_facts_built_before() %}
    select * from {{ ref('int_order_lines_resolved') }}
    {%- if built is not none %}
    where account_id in ({{ product_facts_accounts_to_recompute(built) }})
    {%- endif %}
{%- endmacro %}


{% macro delete_product_facts_to_recompute() -%}
    {#- Pre-hook: delete the rows the model recomputes (every row when it recomputes every
        account), so that an account whose facts are now none keeps none. -#}
    {%- if execute and is_incremental() -%}
        {%- set built = product_facts_built_before() -%}
        delete from {{ this }}
        {%- if built is not none %}
        where account_id in ({{ product_facts_accounts_to_recompute(built) }})
        {%- endif %}
    {%- endif -%}
{%- endmacro %}
