-- segment_summary has one row for every segment of the segment_bands seed for
-- night D, also for segments without accounts. Fails with the missing segments.

with

segment_bands as (

    select segment from {{ ref('segment_bands') }}

),

summary_rows as (

    select segment from {{ ref('segment_summary') }}
    where as_of_date = {{ as_of_date() }}

),

final as (

    select segment_bands.segment
    from segment_bands
    left join summary_rows
        on segment_bands.segment = summary_rows.segment
    where summary_rows.segment is null

)

select * from final
