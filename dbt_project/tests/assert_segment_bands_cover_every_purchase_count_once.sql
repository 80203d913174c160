-- The bands of the segment_bands seed for purchases in the window cover every
-- purchase count from 1 to 1000 exactly once (no gap, no overlap), and each other
-- purchase history (`before_window`, `never`) has exactly one segment, without a
-- count band. Fails with the counts or histories at fault.

with

segment_bands as (

    select * from {{ ref('segment_bands') }}

),

purchase_counts as (

    select purchase_count
    from generate_series(1, 1000) as purchase_counts (purchase_count)

),

bands_per_count as (

    select
        purchase_counts.purchase_count,
        count(segment_bands.segment) as matching_bands

    from purchase_counts
    left join segment_bands
        on
            segment_bands.purchase_history = 'in_window'
            and purchase_counts.purchase_count >= segment_bands.min_purchases
            and (
                segment_bands.max_purchases is null
                or purchase_counts.purchase_count <= segment_bands.max_purchases
            )
    group by purchase_counts.purchase_count

),

band_problems as (

    select 'purchase count ' || purchase_count || ' is in ' || matching_bands || ' bands' as problem
    from bands_per_count
    where matching_bands != 1

),

other_histories as (

    select other_histories.purchase_history
    from (values ('before_window'), ('never')) as other_histories (purchase_history)

),

history_problems as (

    select
        'purchase history ' || other_histories.purchase_history || ' has '
        || count(segment_bands.segment) || ' segments' as problem

    from other_histories
    left join segment_bands
        on other_histories.purchase_history = segment_bands.purchase_history
    group by other_histories.purchase_history
    having count(segment_bands.segment) != 1

    union all

    select 'segment ' || segment || ' has a count band but is not for purchases in the window'
    from segment_bands
    where
        purchase_history != 'in_window'
        and (min_purchases is not null or max_purchases is not null)

),

final as (

    select problem from band_problems
    union all
    select problem from history_problems

)

select * from final
