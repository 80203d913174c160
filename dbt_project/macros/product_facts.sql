{#-
    The product facts kept up to date (int_order_lines_resolved, int_account_products,
    int_account_first_baskets): an account's rows there depend only on its own orders and
    order lines as known on D, so a night recomputes the accounts whose rows may differ
    from those of the night the table was last built for, not every order line of the
    history (int_order_lines_resolved: the account days, not the whole accounts, of the
    orders that changed). The purchases they start from (int_purchases_to_date) are kept the same way,
    by order: a purchase depends only on its own order (and the conversion rates); the
    transaction days summed from them (int_transactions_summarised_to_date) by account.

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


{% macro purchases_orders_to_recompute(built) -%}
    {#- The orders whose row in int_purchases_to_date on D may differ from that on `built`
        (an earlier night): a version exported after `built` (up to D), a held version
        (whether it counts follows the snapshot of D), or an order date passed since
        `built` (a purchase counts from its order date). A purchase depends on its own
        order alone, so the rest of an account's purchases keep their rows. -#}
    select changed.order_id
    from {{ ref('stg_commerce__orders') }} as changed
    where
        changed.export_date <= {{ as_of_date() }}
        and (changed.export_date > {{ built }} or changed.was_held)

    union all

    select dated.order_id
    from {{ ref('int_orders_deduplicated') }} as dated
    where
        dated.order_date <= {{ as_of_date() }}
        and dated.order_date > {{ built }}
{%- endmacro %}


{% macro product_facts_orders_changed(built) -%}
    {#- The orders whose product facts on D may differ from those on `built`: the orders of
        purchases_orders_to_recompute, and those with order lines exported after `built`. -#}
    {{ purchases_orders_to_recompute(built) }}

    union all

    select lines.order_id
    from {{ ref('stg_commerce__order_lines') }} as lines
    where
        lines.export_date <= {{ as_of_date() }}
        and lines.export_date > {{ built }}
{%- endmacro %}


{% macro order_versions(columns, orders) -%}
    {#- The distinct `columns` (of `versions`) of every version up to D of the orders the
        query `orders` selects. Every version's: an order that moved to another account or
        day leaves its old one too. -#}
    select distinct {{ columns }}
    from {{ ref('stg_commerce__orders') }} as versions
    where
        versions.export_date <= {{ as_of_date() }}
        and versions.order_id in ({{ orders }})
{%- endmacro %}


{% macro product_facts_accounts_to_recompute(built) -%}
    {#- The accounts whose product facts on D may differ from those on `built`. -#}
    {{ order_versions('versions.account_id', product_facts_orders_changed(built)) }}
{%- endmacro %}


{% macro product_facts_days_to_recompute(built) -%}
    {#- The account days (account_id, order_date) whose rows in int_order_lines_resolved on
        D may differ from those on `built`. -#}
    {{ order_versions(
        'versions.account_id, versions.order_date', product_facts_orders_changed(built)
    ) }}
{%- endmacro %}


{% macro transactions_accounts_to_recompute(built) -%}
    {#- The accounts whose row in int_transactions_summarised_to_date on D may differ from
        that on `built`: those of the orders whose purchase row int_purchases_to_date
        recomputes. -#}
    {{ order_versions('versions.account_id', purchases_orders_to_recompute(built)) }}
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


{% macro delete_rows_to_recompute(built, columns, rows) -%}
    {#- What the pre-hooks below run: delete the rows the model recomputes, those whose
        `columns` are in the query `rows`, or every row when `built` is none (it recomputes
        everything), so that a key whose rows are now none keeps none. -#}
    delete from {{ this }}
    {%- if built is not none %}
    where ({{ columns }}) in ({{ rows }})
    {%- endif %}
{%- endmacro %}


{% macro delete_product_facts_to_recompute() -%}
    {#- Pre-hook of int_account_products and int_account_first_baskets. -#}
    {%- if execute and is_incremental() -%}
        {%- set built = product_facts_built_before() -%}
        {{ delete_rows_to_recompute(built, 'account_id', product_facts_accounts_to_recompute(built)) }}
    {%- endif -%}
{%- endmacro %}


{% macro delete_days_to_recompute() -%}
    {#- Pre-hook of int_order_lines_resolved: the account days it recomputes. -#}
    {%- if execute and is_incremental() -%}
        {%- set built = product_facts_built_before() -%}
        {{ delete_rows_to_recompute(
            built, 'account_id, transaction_date', product_facts_days_to_recompute(built)
        ) }}
    {%- endif -%}
{%- endmacro %}


{% macro delete_transactions_to_recompute() -%}
    {#- Pre-hook of int_transactions_summarised_to_date: the accounts it recomputes. -#}
    {%- if execute and is_incremental() -%}
        {%- set built = product_facts_built_before() -%}
        {{ delete_rows_to_recompute(built, 'account_id', transactions_accounts_to_recompute(built)) }}
    {%- endif -%}
{%- endmacro %}


{% macro conversion_rates() -%}
    {#- Each currency of the seed currency_rates (currency_code) and its multiplier to the
        reporting currency (conversion_rate: its rate_to_reporting / that of the var
        reporting_currency). No rows when the reporting currency has no rate (the data
        test assert_reporting_currency_has_a_rate fails the night). -#}
    select
        currency_rates.currency as currency_code,
        cast(
            currency_rates.rate_to_reporting / reporting_currency_rate.rate_to_reporting
            as decimal(38, 10)
        ) as conversion_rate
    from {{ ref('currency_rates') }} as currency_rates
    cross join (
        select rate_to_reporting
        from {{ ref('currency_rates') }}
        where currency = {{ reporting_currency() }}
    ) as reporting_currency_rate
{%- endmacro %}


{% macro purchases_built_before() -%}
    {#- int_purchases_to_date's product_facts_built_before(), or None (recompute every
        order) when a currency's conversion rate is no longer the one the table holds:
        a changed seed currency_rates or var reporting_currency converts every purchase
        again. -#}
    {%- set built = product_facts_built_before() -%}
    {%- if built is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set query -%}
        with kept as (
            select distinct currency_code, conversion_rate from {{ this }}
        ),
        rates as (
            {{ conversion_rates() }}
        )
        select count(*)
        from kept
        left join rates on kept.currency_code = rates.currency_code
        where kept.conversion_rate is distinct from rates.conversion_rate
    {%- endset -%}
    {%- set changed = run_query(query).columns[0].values()[0] -%}
    {{- return(none if changed > 0 else built) -}}
{%- endmacro %}


{% macro delete_purchases_to_recompute() -%}
    {#- Pre-hook of int_purchases_to_date: the orders it recomputes. When it recomputes
        every order, the transaction days summed from them (int_transactions_summarised_to_date)
        are summed again too: the night they were built for is forgotten. -#}
    {%- if execute and is_incremental() -%}
        {%- set built = purchases_built_before() -%}
        {{ delete_rows_to_recompute(built, 'order_id', purchases_orders_to_recompute(built)) }}
        {%- set nights = nights_built_relation() -%}
        {%- if built is none and adapter.get_relation(
            database=nights.database, schema=nights.schema, identifier=nights.identifier
        ) is not none %};
        delete from {{ nights }} where model_name = 'int_transactions_summarised_to_date'
        {%- endif %}
    {%- endif -%}
{%- endmacro %}
