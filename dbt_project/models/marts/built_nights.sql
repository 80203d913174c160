-- One row per night built: the nights the change histories (`night_history` models) are
-- valid on. On a warehouse of release 0.2, its first build takes the nights built then.
select {{ as_of_date() }} as as_of_date
{{ built_nights_upgrade() }}
