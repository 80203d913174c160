{#-
    The purchase models' scores as SQL expressions (DuckDB), the same closed forms as
    next_steps.predict.purchase_models (a test holds the two to each other). Arguments are
    SQL expressions; times in weeks, as the fits' `alpha`.
-#}

{#- P(still active | x, t_x, T): BG/NBD paper, equation 12; 1 without a repeat purchase. -#}
{% macro bg_nbd_p_alive(x, t_x, t_cal, r, alpha, a, b) -%}
    case
        when {{ x }} = 0 then 1.0
        else 1.0 / (
            1.0 + {{ a }} / ({{ b }} + {{ x }} - 1)
            * power(({{ alpha }} + {{ t_cal }}) / ({{ alpha }} + {{ t_x }}), {{ r }} + {{ x }})
        )
    end
{%- endmacro %}


{#-
    log |(y)_k| and the sign of (y)_k, the rising factorial y (y + 1) ... (y + k - 1), for
    y > -1 or any y that is not a whole number <= 0 (lgamma is log |gamma| below zero).
-#}
{% macro _log_rising(y, k) -%}
    (lgamma({{ y }} + {{ k }}) - lgamma({{ y }}))
{%- endmacro %}

{% macro _sign_rising(y, k) -%}
    (case when {{ y }} >= 0 then 1 else power(-1, least({{ k }}, ceil(-({{ y }})))) end)
{%- endmacro %}


{#-
    E[purchases in the next t weeks | x, t_x, T]: BG/NBD paper, equation 10. It is the
    product of P(alive) and the expectation for a customer still active, which depends on
    x and T only (bg_nbd_expected_purchases_if_alive), so a caller can compute the series
    once per distinct (x, T) instead of once per customer.
-#}
{% macro bg_nbd_expected_purchases(t, x, t_x, t_cal, r, alpha, a, b) -%}
    (
        {{ bg_nbd_expected_purchases_if_alive(t, x, t_cal, r, alpha, a, b) }}
        * {{ bg_nbd_p_alive(x, t_x, t_cal, r, alpha, a, b) }}
    )
{%- endmacro %}


{#-
    The numerator of equation 10 of the BG/NBD paper: the expected purchases in the next
    t weeks of a customer still active, with its Gauss hypergeometric function after
    Euler's transformation,
    2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1-r-x) 2F1(a+b-1-r, a-1; a+b+x-1; z),
    summed as a series to a relative 1e-12 (as many terms as z = t / (alpha + T + t)
    needs: about 40 for most customers, some hundreds for the newest). `a` must not be 1
    (the caller moves it by 1e-9, as the Python does).
-#}
{% macro bg_nbd_expected_purchases_if_alive(t, x, t_cal, r, alpha, a, b) -%}
    {%- set z -%} (cast({{ t }} as double) / ({{ alpha }} + {{ t_cal }} + {{ t }})) {%- endset -%}
    {%- set upper -%} ({{ a }} + {{ b }} - 1 - {{ r }}) {%- endset -%}
    {%- set lower -%} ({{ a }} - 1) {%- endset -%}
    {%- set c -%} ({{ a }} + {{ b }} + {{ x }} - 1) {%- endset -%}
    (
        {{ c }} / {{ lower }}
        * (
            1 - power(
                ({{ alpha }} + {{ t_cal }}) / ({{ alpha }} + {{ t_cal }} + {{ t }}), {{ lower }}
            )
            * list_sum(list_transform(
                range(0, cast(least(5000, 20 + ceil(-27.631 / ln({{ z }}))) as bigint)),
                lambda k: {{ _sign_rising(upper, 'k') }} * {{ _sign_rising(lower, 'k') }}
                * exp(
                    {{ _log_rising(upper, 'k') }} + {{ _log_rising(lower, 'k') }}
                    - {{ _log_rising(c, 'k') }} - lgamma(k + 1) + k * ln({{ z }})
                )
            ))
        )
    )
{%- endmacro %}


{#-
    The median time in weeks to the next purchase of a customer still active: the solution
    of ((alpha + T) / (alpha + T + w))^(r + x) = 1/2 (the rate's posterior is gamma).
-#}
{% macro bg_nbd_median_weeks_to_next_purchase(x, t_cal, r, alpha) -%}
    (({{ alpha }} + {{ t_cal }}) * (power(2.0, 1.0 / ({{ r }} + {{ x }})) - 1))
{%- endmacro %}


{#- E[mean transaction value | x, m]: the Gamma-Gamma note, equation 5; the population
    mean p v / (q - 1) without a repeat transaction. -#}
{% macro gamma_gamma_expected_value(x, m, p, q, v) -%}
    case
        when {{ x }} = 0 then {{ p }} * {{ v }} / ({{ q }} - 1)
        else {{ p }} * ({{ v }} + {{ x }} * {{ m }}) / ({{ p }} * {{ x }} + {{ q }} - 1)
    end
{%- endmacro %}
