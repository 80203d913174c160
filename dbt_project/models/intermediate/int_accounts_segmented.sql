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
        accounts.enrolled_date,
        cast(coalesce(purchase_totals.orders_in_window, 0) as bigint) as orders_in_window,
        cast(coalesce(purchase_totals.revenue_in_window, 0) as decimal(18, 2)) as revenue_in_window,
        purchase_totals.first_purchase_date,
        purchase_totals.last_purchase_date

    from accounts
    left join purchase_totals
        on accounts.account_id = purchase_totals.account_id

),

purchase_histories as (

    select
        accounts_with_purchases.*,
        case
            when accounts_with_purchases.orders_in_window > 0 then 'in_window'
            when accounts_with_purchases.last_purchase_date is not null then 'before_window'
            else 'never'
        end as purchase_history

    from accounts_with_purchases

),

final as (

    select
        purchase_histories.account_id,
        purchase_histories.account_type,
        purchase_histories.account_status,
        purchase_histories.has_active_autoship,
        purchase_histories.enrolled_date,
        purchase_histories.orders_in_window,
        purchase_histories.revenue_in_window,
        purchase_histories.first_purchase_date,
        purchase_histories.last_purchase_date,
        purchase_histories.purchase_history,
        segment_bands.segment,
        segment_bands.sort_order as segment_sort_order

    from purchase_histories
    left join segment_bands
        on
            purchase_histories.purchase_history = segment_bands.purchase_history
            and (
                segment_bands.min_purchases is null
                or purchase_histories.orders_in_window >= segment_bands.min_purchases
            )
            and (
                segment_bands.max_purchases is null
                or purchase_histories.orders_in_window <= segment_bands.max_purchases
            )

)

select * from final
