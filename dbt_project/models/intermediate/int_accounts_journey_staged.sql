with

accounts as (

    select * from {{ ref('int_accounts_snapshotted') }}

),

segmented_accounts as (

    select * from {{ ref('int_accounts_segmented') }}

),

purchase_totals as (

    select * from {{ ref('int_purchases_aggregated_to_accounts') }}

),

-- accounts that purchased up to D, counted for the account that sponsored them
-- (an account that names itself as its sponsor does not refer itself)
buyers_per_sponsor as (

    select
        accounts.sponsor_account_id as account_id,
        count(*) as sponsored_buyers

    from accounts
    inner join purchase_totals
        on accounts.account_id = purchase_totals.account_id
    where
        accounts.sponsor_account_id is not null
        and accounts.sponsor_account_id != accounts.account_id
        and purchase_totals.purchases_to_date > 0
    group by accounts.sponsor_account_id

),

accounts_with_journey_figures as (

    select
        segmented_accounts.account_id,
        segmented_accounts.segment,
        cast(coalesce(purchase_totals.purchases_to_date, 0) as bigint) as purchases_to_date,
        cast(
            coalesce(purchase_totals.autoship_purchases_to_date, 0) as bigint
        ) as autoship_purchases_to_date,
        cast(coalesce(buyers_per_sponsor.sponsored_buyers, 0) as bigint) as sponsored_buyers,
        cast(coalesce(purchase_totals.revenue_to_date, 0) as decimal(18, 2)) as revenue_to_date

    from segmented_accounts
    left join purchase_totals
        on segmented_accounts.account_id = purchase_totals.account_id
    left join buyers_per_sponsor
        on segmented_accounts.account_id = buyers_per_sponsor.account_id

),

final as (

    select
        account_id,
        -- the lower half of the sales hourglass; refer wins over repeat and buy
        case
            when sponsored_buyers > 0 then 'refer'
            when purchases_to_date >= 2 then 'repeat'
            when purchases_to_date = 1 then 'buy'
            else 'try'
        end as stage,
        purchases_to_date,
        sponsored_buyers,
        segment,
        autoship_purchases_to_date,
        revenue_to_date

    from accounts_with_journey_figures

)

select * from final
