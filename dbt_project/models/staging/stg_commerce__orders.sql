with

source as (

    select * from {{ source('commerce', 'orders') }}

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
        upper(trim(currency)) as currency_code

    from source

)

select * from final
