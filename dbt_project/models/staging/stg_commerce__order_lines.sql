with

source as (

    select * from {{ source('commerce', 'order_lines') }}

),

final as (

    select
        -- export
        export_date,
        source_line,

        -- ids
        order_id,
        line_number,
        sku,

        -- amounts
        quantity,
        unit_price,
        cast(quantity * unit_price as decimal(18, 4)) as line_total

    from source

)

select * from final
