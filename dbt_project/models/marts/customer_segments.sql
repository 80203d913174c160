with

segmented_accounts as (

    select * from {{ ref('int_accounts_segmented') }}

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        account_id,
        account_type,
        account_status as status,
        orders_12m,
        revenue_12m,
        first_purchase_date,
        last_purchase_date,
        segment,
        has_active_autoship

    from segmented_accounts

)

select * from final
