-- depends_on: {{ ref('built_nights') }}
{#-
    Every account as each night's snapshot had it, kept as changes: raw.accounts holds only
    the snapshot loaded last, so this is the one record of earlier snapshots (the outreach
    lists of earlier nights read their names and addresses here).
-#}
{#-
    On a warehouse of release 0.2, raw.accounts still holds every night's snapshot when
    this table is first built: they are taken in, oldest first (the loader removes them
    only once this table exists), with has_unknown_sponsor as int_accounts_snapshotted
    works it out per snapshot.
-#}
{{ config(
    materialized='night_history',
    unique_key='account_id',
    full_refresh=false,
    upgrade_from={
        'schema': 'staging',
        'relation': 'stg_commerce__accounts',
        'night_column': 'export_date',
        'select': 'coalesce(old_relation.sponsor_account_id is not null and old_relation.sponsor_account_id not in (select sponsors.account_id from staging.stg_commerce__accounts as sponsors where sponsors.export_date = old_relation.export_date), false) as has_unknown_sponsor',
    },
) }}

with

snapshot as (

    select * from {{ ref('int_accounts_snapshotted') }}

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        account_id,
        sponsor_account_id,
        account_type,
        account_status,
        first_name,
        email,
        country,
        language,
        is_email_opted_in,
        has_active_autoship,
        distributor_rank,
        enrolled_date,
        has_unknown_sponsor

    from snapshot

)

select * from final
