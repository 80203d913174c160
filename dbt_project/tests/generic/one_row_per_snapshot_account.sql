{#- The model's rows under test (the test's `where` config: night D) hold exactly one row
    per account of D's snapshot (only the accounts of `account_type`, when given) and no
    row for any other account. Fails with each account that breaks it: outside the
    snapshot, or with a row count other than 1. -#}
{% test one_row_per_snapshot_account(model, column_name, account_type=none) %}

with

snapshot_accounts as (

    select account_id from {{ ref('int_accounts_snapshotted') }}
    {% if account_type is not none -%}
        where account_type = '{{ account_type }}'
    {%- endif %}

),

model_counts as (

    select
        {{ column_name }} as account_id,
        count(*) as model_rows

    from {{ model }}
    group by {{ column_name }}

),

compared as (

    select
        coalesce(snapshot_accounts.account_id, model_counts.account_id) as account_id,
        snapshot_accounts.account_id is not null as is_in_snapshot,
        coalesce(model_counts.model_rows, 0) as model_rows

    from snapshot_accounts
    full outer join model_counts
        on snapshot_accounts.account_id = model_counts.account_id

),

final as (

    select * from compared
    where not is_in_snapshot or model_rows != 1

)

select * from final

{% endtest %}
