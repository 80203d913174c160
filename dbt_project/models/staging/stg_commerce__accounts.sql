with

source as (

    select * from {{ source('commerce', 'accounts') }}

),

final as (

    select
        -- export
        export_date,
        source_line,

        -- ids
        account_id,
        sponsor_id as sponsor_account_id,

        -- contact
        first_name,

        -- flags
        email_opt_in as is_email_opted_in,
        autoship_active as has_active_autoship,

        -- numbers
        rank as distributor_rank,

        -- dates
        enrolled_at as enrolled_date,

        -- categories and contact details, cleaned (`language` is the contract's column name)
        lower(trim(account_type)) as account_type,
        lower(trim(status)) as account_status,
        nullif(trim(email), '') as email,
        upper(trim(country)) as country,
        lower(trim(language)) as language  -- noqa: RF04

    from source

)

select * from final
