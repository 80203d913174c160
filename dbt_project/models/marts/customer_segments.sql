-- One row per account per night built, from the change history (customer_segments_history)
{{ config(materialized='view') }}

{{ nights_of_history(ref('customer_segments_history'), [
        'account_id',
        'account_type',
        'status',
        'orders_in_window',
        'revenue_in_window',
        'first_purchase_date',
        'last_purchase_date',
        'segment',
        'has_active_autoship',
        'orders_12m',
        'revenue_12m',
    ]) }}
