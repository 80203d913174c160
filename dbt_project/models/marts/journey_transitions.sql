{#-
    Who moved from which stage or segment to which, per night: night N compared with the
    latest earlier night present in the mart of that kind (customer_segments for
    segments, journey_stages for stages).

    Night N depends on the night before it, so building night D recomputes D and every
    later night already built (pre-hook delete_nights_from_as_of_date), like
    outreach_log: the transitions never depend on the order nights were built in.
-#}
{{ config(pre_hook="{{ delete_nights_from_as_of_date() }}") }}
-- depends_on: {{ ref('built_nights') }}

{%- set kinds = [
    {'kind': 'segment', 'mart': 'customer_segments', 'value': 'segment'},
    {'kind': 'stage', 'mart': 'journey_stages', 'value': 'stage'},
] %}

with

{% for kind in kinds %}
{%- set first_night = first_night_in_play(ref(kind.mart ~ '_history')) %}
-- the nights recomputed and the one before them (a literal date: see first_night_in_play)
{{ kind.kind }}_values as (

    select
        as_of_date,
        account_id,
        {{ kind.value }} as kind_value

    from {{ ref(kind.mart) }}
    {%- if first_night is not none %}
    where as_of_date >= {{ first_night }}
    {%- endif %}

),

-- the first night recomputed: D, or the first night of the mart when this table is new
{{ kind.kind }}_recompute_from as (

    {{ first_recomputed_night(kind.kind ~ '_values') }}

),

{{ kind.kind }}_previous_night as (

    select max({{ kind.kind }}_values.as_of_date) as as_of_date
    from {{ kind.kind }}_values
    cross join {{ kind.kind }}_recompute_from
    where {{ kind.kind }}_values.as_of_date < {{ kind.kind }}_recompute_from.first_night

),

-- the nights recomputed (D and later) and the night just before them, numbered
{{ kind.kind }}_nights as (

    select
        as_of_date,
        row_number() over (order by as_of_date) as night_number

    from (
        select distinct {{ kind.kind }}_values.as_of_date
        from {{ kind.kind }}_values
        cross join {{ kind.kind }}_recompute_from
        cross join {{ kind.kind }}_previous_night
        where
            {{ kind.kind }}_values.as_of_date >= {{ kind.kind }}_recompute_from.first_night
            or {{ kind.kind }}_values.as_of_date = {{ kind.kind }}_previous_night.as_of_date
    ) as nights

),

{{ kind.kind }}_numbered as (

    select
        {{ kind.kind }}_values.*,
        {{ kind.kind }}_nights.night_number

    from {{ kind.kind }}_values
    inner join {{ kind.kind }}_nights
        on {{ kind.kind }}_values.as_of_date = {{ kind.kind }}_nights.as_of_date

),

{{ kind.kind }}_changes as (

    select
        tonight.as_of_date,
        tonight.account_id,
        '{{ kind.kind }}' as kind,
        previous.kind_value as from_value,
        tonight.kind_value as to_value,
        previous.as_of_date as previous_as_of_date

    from {{ kind.kind }}_numbered as tonight
    cross join {{ kind.kind }}_recompute_from
    inner join {{ kind.kind }}_numbered as previous
        on
            tonight.account_id = previous.account_id
            and tonight.night_number = previous.night_number + 1
    where
        tonight.as_of_date >= {{ kind.kind }}_recompute_from.first_night
        and tonight.kind_value != previous.kind_value

),

{% endfor %}

final as (

    {% for kind in kinds -%}
    select * from {{ kind.kind }}_changes
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from final
