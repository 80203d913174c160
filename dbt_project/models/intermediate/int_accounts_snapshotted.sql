with

accounts as (

    select * from {{ ref('stg_commerce__accounts') }}

),

snapshots_known_on_as_of_date as (

    select max(export_date) as snapshot_date
    from accounts
    where export_date <= {{ as_of_date() }}

),

snapshot as (

    select
        accounts.account_id,
        accounts.sponsor_account_id,
        accounts.account_type,
        accounts.account_status,
        accounts.first_name,
        accounts.email,
        accounts.country,
        accounts.language,
        accounts.is_email_opted_in,
        accounts.has_active_autoship,
        accounts.distributor_rank,
        accounts.enrolled_date,
        accounts.export_date as snapshot_date

    from accounts
    inner join snapshots_known_on_as_of_date
        on accounts.export_date = snapshots_known_on_as_of_date.snapshot_date

),

final as (

    select
        snapshot.*,
        -- the loader keeps an account whose sponsor is not in the snapshot and flags it
        coalesce(
            snapshot.sponsor_account_id is not null
            and snapshot.sponsor_account_id not in (
                select sponsors.account_id from snapshot as sponsors
            ),
            false
        ) as has_unknown_sponsor

    from snapshot

)

select * from final
