with

segment_bands as (

    select * from {{ ref('segment_bands') }}

),

segmented_accounts as (

    select * from {{ ref('int_accounts_segmented') }}

),

segment_totals as (

    -- `accounts` and `orders` are the contract's column names (keywords in some dialects)
    select
        segment,
        count(*) as accounts,  -- noqa: RF04
        sum(orders_in_window) as orders,
        sum(revenue_in_window) as revenue

    from segmented_accounts
    group by segment

),

every_segment as (

    select
        segment_bands.segment,
        segment_bands.sort_order,
        cast(coalesce(segment_totals.accounts, 0) as bigint) as accounts,  -- noqa: RF04
        cast(coalesce(segment_totals.orders, 0) as bigint) as orders,
        cast(coalesce(segment_totals.revenue, 0) as decimal(18, 2)) as revenue

    from segment_bands
    left join segment_totals
        on segment_bands.segment = segment_totals.segment

),

grand_total as (

    select sum(revenue) as total_revenue
    from every_segment

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        every_segment.segment,
        every_segment.accounts,
        every_segment.orders,
        every_segment.revenue,
        cast(
            round(
                cast(every_segment.revenue / nullif(every_segment.orders, 0) as decimal(38, 10)),
                2
            ) as decimal(18, 2)
        ) as average_order_value,
        cast(
            round(
                cast(
                    every_segment.revenue / nullif(grand_total.total_revenue, 0)
                    as decimal(38, 10)
                ),
                4
            ) as decimal(9, 4)
        ) as revenue_share,
        every_segment.sort_order as segment_sort_order

    from every_segment
    cross join grand_total

)

select * from final
