{#-
    Outbound: the contract of the marketing e-mail tool. Keep the column order;
    new columns go at the end so importers keep working.
-#}
with

next_steps as (

    select * from {{ ref('next_steps') }}

),

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

accounts as (

    select * from {{ ref('int_accounts_snapshotted') }}

),

todays_next_steps as (

    select * from next_steps
    where as_of_date = {{ as_of_date() }}

),

todays_segments as (

    select * from customer_segments
    where as_of_date = {{ as_of_date() }}

),

reachable_accounts as (

    select
        account_id,
        first_name,
        language,
        country,
        trim(email) as email

    from accounts
    where
        coalesce(account_status, '') != 'terminated'
        and coalesce(is_email_opted_in, false)
        and {{ is_valid_email('email') }}

),

final as (

    select
        todays_next_steps.as_of_date,
        todays_next_steps.next_step as campaign,
        todays_next_steps.account_id,
        reachable_accounts.first_name,
        reachable_accounts.email,
        reachable_accounts.language,
        reachable_accounts.country,
        todays_next_steps.segment,
        todays_next_steps.next_step,
        todays_segments.orders_12m,
        todays_segments.revenue_12m,
        todays_segments.last_purchase_date as last_order_date,
        todays_next_steps.reason

    from todays_next_steps
    inner join reachable_accounts
        on todays_next_steps.account_id = reachable_accounts.account_id
    inner join todays_segments
        on todays_next_steps.account_id = todays_segments.account_id

)

select * from final
