with

loaded_orders as (

    select
        *,
        false as was_held

    from {{ source('commerce', 'orders') }}

),

-- Orders whose account was in no accounts snapshot yet on their export night: the
-- intermediate layer takes them in from the first night whose snapshot has the account.
held_orders as (

    select
        *,
        true as was_held

    from {{ source('commerce', 'held_orders') }}

),

source as (

    select * from loaded_orders
    union all
    select * from held_orders

),

final as (

    select
        -- export
        export_date,
        source_line,

        -- ids
        order_id,
        account_id,

        -- amounts
        order_total,
        volume as order_volume,

        -- timestamps (UTC)
        order_date as ordered_at,
        updated_at,

        -- dates
        cast(order_date as date) as order_date,

        -- categories, cleaned
        lower(trim(order_type)) as order_type,
        lower(trim(status)) as order_status,
        upper(trim(currency)) as currency_code,

        -- load
        was_held

    from source

)

select * from final
