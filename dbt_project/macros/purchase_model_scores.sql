{#-
    The purchase models' scores of `transactions`: SQL that gives, per night and account,
    the night's BG/NBD and Gamma-Gamma figures (the columns of customer_predictions).
    `transactions` is a query with as_of_date, account_id, first_transaction_date,
    last_transaction_date, repeat_transactions and repeat_transaction_value_mean, one row
    per account and night to score. customer_predictions scores every account of every
    night built; the outreach lists score only the people listed on their nights. DuckDB
    only (the scores need lgamma). Times go to the models in weeks, as the fits' alpha.
-#}
{% macro purchase_model_scores(transactions) -%}
with

transactions as (

    {{ transactions }}

),

fits as (

    select
        as_of_date,
        max(value) filter (where model = 'bg_nbd' and parameter = 'r') as r,
        max(value) filter (where model = 'bg_nbd' and parameter = 'alpha') as alpha,
        -- the closed form divides by a - 1; its limit at a = 1 is continuous
        max(
            case when abs(value - 1) < 1e-9 then 1 + 1e-9 else value end
        ) filter (where model = 'bg_nbd' and parameter = 'a') as a,
        max(value) filter (where model = 'bg_nbd' and parameter = 'b') as b,
        max(value) filter (where model = 'gamma_gamma' and parameter = 'p') as p,
        max(value) filter (where model = 'gamma_gamma' and parameter = 'q') as q,
        max(value) filter (where model = 'gamma_gamma' and parameter = 'v') as v,
        bool_and(converged) filter (where model = 'bg_nbd') as is_bg_nbd_usable,
        bool_and(converged) filter (where model = 'gamma_gamma') as is_gamma_gamma_usable,
        max(fit_note) filter (where model = 'bg_nbd') as bg_nbd_note,
        max(fit_note) filter (where model = 'gamma_gamma') as gamma_gamma_note

    from {{ ref('purchase_model_fits') }}
    group by as_of_date

),

inputs as (

    select
        transactions.as_of_date,
        transactions.account_id,
        transactions.repeat_transactions,
        transactions.last_transaction_date,
        transactions.last_transaction_date - transactions.first_transaction_date
            as recency_days,
        transactions.as_of_date - transactions.first_transaction_date as tenure_days,
        -- the papers' t_x and T, in weeks
        cast(transactions.last_transaction_date - transactions.first_transaction_date as double)
        / 7 as recency_weeks,
        cast(transactions.as_of_date - transactions.first_transaction_date as double)
        / 7 as tenure_weeks,
        cast(transactions.repeat_transaction_value_mean as double) as repeat_value_mean,
        coalesce(fits.is_bg_nbd_usable, false) as is_bg_nbd_usable,
        coalesce(fits.is_gamma_gamma_usable, false) as is_gamma_gamma_usable,
        fits.bg_nbd_note,
        fits.gamma_gamma_note,
        fits.r,
        fits.alpha,
        fits.a,
        fits.b,
        fits.p,
        fits.q,
        fits.v

    from transactions
    left join fits
        on transactions.as_of_date = fits.as_of_date

),

-- the expected purchases of a customer still active depend on x and T only: the series
-- is summed once per night and distinct (x, T), a few thousand pairs for a million
-- customers, not once per customer
if_alive as (

    select
        as_of_date,
        repeat_transactions,
        {%- for days in [30, 90, 365] %}
        {{ bg_nbd_expected_purchases_if_alive(
            'cast(' ~ days ~ ' as double) / 7', 'repeat_transactions', 'tenure_weeks',
            'r', 'alpha', 'a', 'b'
        ) }} as purchases_if_alive_{{ days }}d,
        {%- endfor %}
        tenure_days

    from (
        select distinct
            as_of_date,
            repeat_transactions,
            tenure_days,
            tenure_weeks,
            r,
            alpha,
            a,
            b

        from inputs
        where is_bg_nbd_usable
    ) as pairs

),

alive as (

    select
        inputs.*,
        case
            when inputs.is_bg_nbd_usable then
                {{ bg_nbd_p_alive(
                    'inputs.repeat_transactions', 'inputs.recency_weeks', 'inputs.tenure_weeks',
                    'inputs.r', 'inputs.alpha', 'inputs.a', 'inputs.b'
                ) }}
        end as p_alive

    from inputs

),

scored as (

    select
        alive.*,
        {%- for days in [30, 90, 365] %}
        if_alive.purchases_if_alive_{{ days }}d * alive.p_alive as expected_purchases_{{ days }}d,
        {%- endfor %}
        -- from the last purchase: the median wait of a customer still active, with the
        -- rate known at that purchase (T = t_x), at least a day (a day's purchases are
        -- one transaction); a date that passes while the customer does not buy
        case
            when alive.is_bg_nbd_usable then
                alive.last_transaction_date + cast(greatest(1, round(7 * {{
                    bg_nbd_median_weeks_to_next_purchase(
                        'alive.repeat_transactions', 'alive.recency_weeks', 'alive.r', 'alive.alpha'
                    )
                }})) as integer)
        end as expected_next_purchase_date,
        case
            when alive.is_gamma_gamma_usable then
                {{ gamma_gamma_expected_value(
                    'alive.repeat_transactions', 'alive.repeat_value_mean',
                    'alive.p', 'alive.q', 'alive.v'
                ) }}
        end as expected_order_value

    from alive
    left join if_alive
        on
            alive.as_of_date = if_alive.as_of_date
            and alive.repeat_transactions = if_alive.repeat_transactions
            and alive.tenure_days = if_alive.tenure_days

),

final as (

    select
        as_of_date,
        account_id,
        repeat_transactions,
        recency_days,
        tenure_days,
        p_alive,
        expected_purchases_30d,
        expected_purchases_90d,
        expected_purchases_365d,
        expected_next_purchase_date,
        expected_order_value,
        -- not discounted: a year's expected purchases times the expected order value
        expected_purchases_365d * expected_order_value as predicted_value_365d,
        case
            when not is_bg_nbd_usable
                then 'no purchase model tonight: ' || coalesce(bg_nbd_note, 'not fitted')
            when not is_gamma_gamma_usable
                then
                    'no order-value model tonight: '
                    || coalesce(gamma_gamma_note, 'not fitted')
        end as prediction_note

    from scored

)

select * from final
{%- endmacro %}
