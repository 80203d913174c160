-- Night D and the later nights it recomputed list an address (compared normalised) at
-- most once across all campaigns and segments. Fails with the addresses listed twice.

with

lists as (

    select * from {{ ref('pump_outreach_lists') }}
    where as_of_date >= {{ as_of_date() }}

),

final as (

    select
        as_of_date,
        {{ normalised_email('email') }} as email_address,
        count(*) as rows_listed

    from lists
    group by as_of_date, {{ normalised_email('email') }}
    having count(*) > 1

)

select * from final
