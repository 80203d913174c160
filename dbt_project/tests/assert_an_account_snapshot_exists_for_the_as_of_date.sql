-- At least one account snapshot was exported on or before night D; without one
-- every mart of D would be silently empty. Fails with one row otherwise.

with

accounts as (

    select * from {{ ref('stg_commerce__accounts') }}

),

snapshots_known_on_as_of_date as (

    select export_date
    from accounts
    where export_date <= {{ as_of_date() }}

),

final as (

    select {{ as_of_date() }} as as_of_date
    where not exists (select 1 from snapshots_known_on_as_of_date)

)

select * from final
