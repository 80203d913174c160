-- Compares night D with the latest earlier night present in the marts (per kind: the
-- latest as_of_date < D of customer_segments for segments, of journey_stages for stages).
-- Built for D like every mart: when an earlier night is built (or rebuilt) later, the
-- transitions of the nights after it are refreshed only when those nights are rebuilt.

with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

journey_stages as (

    select * from {{ ref('journey_stages') }}

),

segments_tonight as (

    select
        account_id,
        segment

    from customer_segments
    where as_of_date = {{ as_of_date() }}

),

previous_segment_night as (

    select max(as_of_date) as previous_as_of_date
    from customer_segments
    where as_of_date < {{ as_of_date() }}

),

segments_previous_night as (

    select
        customer_segments.account_id,
        customer_segments.segment,
        customer_segments.as_of_date

    from customer_segments
    inner join previous_segment_night
        on customer_segments.as_of_date = previous_segment_night.previous_as_of_date

),

segment_changes as (

    select
        segments_tonight.account_id,
        'segment' as kind,
        segments_previous_night.segment as from_value,
        segments_tonight.segment as to_value,
        segments_previous_night.as_of_date as previous_as_of_date

    from segments_tonight
    inner join segments_previous_night
        on segments_tonight.account_id = segments_previous_night.account_id
    where segments_tonight.segment != segments_previous_night.segment

),

stages_tonight as (

    select
        account_id,
        stage

    from journey_stages
    where as_of_date = {{ as_of_date() }}

),

previous_stage_night as (

    select max(as_of_date) as previous_as_of_date
    from journey_stages
    where as_of_date < {{ as_of_date() }}

),

stages_previous_night as (

    select
        journey_stages.account_id,
        journey_stages.stage,
        journey_stages.as_of_date

    from journey_stages
    inner join previous_stage_night
        on journey_stages.as_of_date = previous_stage_night.previous_as_of_date

),

stage_changes as (

    select
        stages_tonight.account_id,
        'stage' as kind,
        stages_previous_night.stage as from_value,
        stages_tonight.stage as to_value,
        stages_previous_night.as_of_date as previous_as_of_date

    from stages_tonight
    inner join stages_previous_night
        on stages_tonight.account_id = stages_previous_night.account_id
    where stages_tonight.stage != stages_previous_night.stage

),

changes as (

    select * from stage_changes
    union all
    select * from segment_changes

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        account_id,
        kind,
        from_value,
        to_value,
        previous_as_of_date

    from changes

)

select * from final
