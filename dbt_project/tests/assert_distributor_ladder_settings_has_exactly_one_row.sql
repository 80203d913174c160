-- The distributor_ladder_settings seed holds exactly one row (the models cross join it:
-- no row would silently empty distributor_segments, two rows would duplicate it).
-- Fails with the row count otherwise.

with

ladder_settings as (

    select * from {{ ref('distributor_ladder_settings') }}

),

row_count as (

    select count(*) as settings_rows
    from ladder_settings

),

final as (

    select settings_rows
    from row_count
    where settings_rows != 1

)

select * from final
