-- The reporting currency (dbt var `reporting_currency`) is a currency of the
-- currency_rates seed, so revenue can be converted. Fails with one row otherwise.

with

reporting_currency_rates as (

    select *
    from {{ ref('currency_rates') }}
    where currency = {{ reporting_currency() }}

),

final as (

    select {{ reporting_currency() }} as reporting_currency
    where not exists (select 1 from reporting_currency_rates)

)

select * from final
