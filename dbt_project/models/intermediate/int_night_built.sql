-- Night D as one row, for the Python models (they cannot call the as_of_date macro)
{{ config(materialized='view') }}

select {{ as_of_date() }} as as_of_date
