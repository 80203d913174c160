with

accounts as (

    select * from {{ ref('int_accounts_snapshotted') }}

),

purchase_totals as (

    select * from {{ ref('int_purchases_aggregated_to_accounts') }}

),

segment_bands as (

    select * from {{ ref('segment_bands') }}

),

accounts_with_purchases as (

    select
        accounts.account_id,
        accounts.account_type,
        accounts.account_status,
        accounts.has_active_autoship,
        cast(coalesce(purchase_totals.orders_12m, 0) as bigint) as orders_12m,
        cast(coalesce(purchase_totals.revenue_12m, 0) as decimal(18, 2)) as revenue_12m,
        purchase_totals.first_purchase_date,
        purchase_totals.last_purchase_date

    from accounts
    left join purchase_totals
        on accounts.account_id = purchase_totals.account_id

),

counted_bands as (

    select
        segment,
        min_purchases,
        max_purchases

    from segment_bands
    where min_purchases is not null

),

segmented as (

    select
        accounts_with_purchases.*,
        case
            when accounts_with_purchases.orders_12m > 0 then counted_bands.segment
            when accounts_with_purchases.last_purchase_date is not null then 'lapsed'
            else 'no_purchase'
        end as segment

    from accounts_with_purchases
    left join counted_bands
        on
            accounts_with_purchases.orders_12m > 0
            and accounts_with_purchases.orders_12m >= counted_bands.min_purchases
            and (
                counted_bands.max_purchases is null
                or accounts_with_purchases.orders_12m <= counted_bands.max_purchases
            )

),

final as (

    select
        segmented.account_id,
        segmented.account_type,
        segmented.account_status,
        segmented.has_active_autoship,
        segmented.orders_12m,
        segmented.revenue_12m,
        segmented.first_purchase_date,
        segmented.last_purchase_date,
        segmented.segment,
        segment_bands.sort_order as segment_sort_order

    from segmented
    left join segment_bands
        on segmented.segment = segment_bands.segment

)

select * from final
