{#-
    Pre-hook of int_orders_deduplicated, on an incremental run: delete the rows the model
    recomputes and might not write again (delete+insert only replaces the orders it
    writes).

    - All rows, when D is not later than the latest export among the table's versions:
      a night re-run (its export may have been re-delivered) or built out of order; the
      model then ranks every version exported up to D, as on a new table.
    - Else the orders with a held version exported up to D: whether a held version counts
      follows the snapshot of D, so such an order may win another version or none.

    In the same transaction as the model's insert; renders nothing on a new table or a
    full refresh.
-#}
{% macro delete_orders_to_recompute() -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }}
        where
            {{ as_of_date() }} <= (select max(kept.version_export_date) from {{ this }} as kept)
            or order_id in (
                select held.order_id
                from {{ ref('stg_commerce__orders') }} as held
                where held.was_held and held.export_date <= {{ as_of_date() }}
            )
    {%- endif -%}
{%- endmacro %}
