with

orders as (

    select * from {{ ref('stg_commerce__orders') }}

),

accounts as (

    select * from {{ ref('int_accounts_snapshotted') }}

),

versions_known_on_as_of_date as (

    select * from orders
    where
        export_date <= {{ as_of_date() }}
        -- a held order counts once its account is in the snapshot of D
        and (
            not was_held
            or account_id in (select accounts.account_id from accounts)
        )

),

versions_ranked as (

    select
        *,
        row_number() over (
            partition by order_id
            order by
                updated_at desc nulls last,
                export_date desc,
                source_line desc
        ) as version_rank

    from versions_known_on_as_of_date

),

final as (

    select
        order_id,
        account_id,
        order_type,
        order_status,
        currency_code,
        order_total,
        order_volume,
        ordered_at,
        order_date,
        updated_at,
        export_date as version_export_date,
        source_line as version_source_line

    from versions_ranked
    where version_rank = 1

)

select * from final
