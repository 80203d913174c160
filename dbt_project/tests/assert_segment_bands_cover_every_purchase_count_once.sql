-- The counted bands of the segment_bands seed cover every purchase count from 1
-- to 1000 exactly once (no gap, no overlap), and the seed defines the two rule
-- segments `lapsed` and `no_purchase`. Fails with the counts or segments at fault.

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
            purchase_counts.purchase_count >= segment_bands.min_purchases
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

rule_segments as (

    select rule_segments.segment
    from (values ('lapsed'), ('no_purchase')) as rule_segments (segment)

),

missing_rule_segments as (

    select 'segment ' || rule_segments.segment || ' is missing from segment_bands' as problem
    from rule_segments
    left join segment_bands
        on rule_segments.segment = segment_bands.segment
    where segment_bands.segment is null

),

final as (

    select problem from band_problems
    union all
    select problem from missing_rule_segments

)

select * from final
