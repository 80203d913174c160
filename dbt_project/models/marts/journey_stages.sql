-- One row per account per night built, from the change history (journey_stages_history)
{{ config(materialized='view') }}

{{ nights_of_history(ref('journey_stages_history'), [
        'account_id',
        'stage',
        'purchases_to_date',
        'sponsored_buyers',
        'segment',
        'autoship_purchases_to_date',
    ]) }}
