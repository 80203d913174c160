with

matched_accounts as (

    select * from {{ ref('int_accounts_matched_to_rules') }}

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        account_id,
        segment,
        next_step,
        reason,
        rule_id

    from matched_accounts

)

select * from final
