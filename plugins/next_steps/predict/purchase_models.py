"""The published purchase models, fitted by maximum likelihood and scored in closed form.

**BG/NBD** (Fader, Hardie & Lee 2005, "Counting your customers the easy way", Marketing
Science 24(2)): while active, a customer buys at a Poisson rate lambda (gamma across
customers: shape ``r``, scale ``alpha`` in weeks); after any purchase they drop out with
probability p (beta across customers: ``a``, ``b``). Per customer the data are ``x``
(repeat transactions: transaction days after the first), ``t_x`` (first to last
transaction) and ``T`` (first transaction to the as-of date), both in weeks.

**Gamma-Gamma** (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves for
customer base analysis", JMR 42(4); Fader & Hardie 2013, "The Gamma-Gamma model of
monetary value"): the values of a customer's transactions are gamma (shape ``p``, scale
nu) around their own mean, nu is gamma across customers (shape ``q``, scale ``v``).
Fitted on the customers with a repeat transaction, from the mean value of their repeat
transactions.

Both likelihoods are the papers' closed forms (equation 6 of the BG/NBD paper, equation
3 of the Gamma-Gamma note); scipy's L-BFGS-B maximises them over the logarithms of the
parameters with their analytic gradients. The data are reduced to distinct rows with a
count first, so a fit costs what the distinct (x, t_x, T) do, not the accounts. The fit
is deterministic: the same rows in any order give the same parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import optimize, special

BG_NBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "v")


@dataclass(frozen=True)
class Fit:
    """One model fitted on one night's customers. ``params`` is empty when the model was
    not fitted; ``note`` then says why (and names a fit that did not converge)."""

    model: str
    params: dict[str, float] = field(default_factory=dict)
    customers: int = 0
    log_likelihood: float | None = None
    converged: bool = False
    note: str | None = None

    @property
    def usable(self) -> bool:
        return self.converged and bool(self.params)


def _distinct(columns: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of equal-length columns (sorted, so the order of the input does
    not matter) and how often each occurs."""
    stacked = np.column_stack([np.asarray(column, dtype=float) for column in columns])
    rows, counts = np.unique(stacked, axis=0, return_counts=True)
    return [rows[:, index] for index in range(rows.shape[1])], counts.astype(float)


def _maximise(negative_ll_and_gradient, start: np.ndarray) -> optimize.OptimizeResult:
    return optimize.minimize(
        negative_ll_and_gradient,
        start,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9},
    )


# ---------------------------------------------------------------------------- BG/NBD


def _levels(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values and, per row, the index of its own: a function of the values
    is computed once per distinct value (purchase counts and day counts repeat a lot)."""
    return np.unique(values, return_inverse=True)


def _bg_nbd_log_likelihood(params, x, x_levels, t_x_levels, T_levels):
    """Each customer's log-likelihood (the paper's equation 6) and its gradient with
    respect to (r, alpha, a, b), one row per customer; t_x and T come as their levels."""
    r, alpha, a, b = params
    (xs, x_at), (t_xs, t_x_at), (Ts, T_at) = x_levels, t_x_levels, T_levels
    repeat = x > 0
    # the functions of x, t_x and T alone, once per distinct value
    safe_b = np.where(xs > 0, b + xs - 1, 1.0)  # b + x - 1 > 0 for a repeat buyer
    log_a12 = (
        special.gammaln(r + xs)
        - special.gammaln(r)
        + r * np.log(alpha)
        + special.gammaln(a + b)
        + special.gammaln(b + xs)
        - special.gammaln(b)
        - special.gammaln(a + b + xs)
    )[x_at]
    d_r_x = (special.digamma(r + xs) - special.digamma(r) + np.log(alpha))[x_at]
    d_a_x = (special.digamma(a + b) - special.digamma(a + b + xs))[x_at]
    d_b_x = (
        special.digamma(a + b)
        + special.digamma(b + xs)
        - special.digamma(b)
        - special.digamma(a + b + xs)
    )[x_at]
    inverse_b = (1.0 / safe_b)[x_at]
    log_alpha_T, log_alpha_t_x = np.log(alpha + Ts)[T_at], np.log(alpha + t_xs)[t_x_at]
    inverse_alpha_T, inverse_alpha_t_x = (1.0 / (alpha + Ts))[T_at], (1.0 / (alpha + t_xs))[t_x_at]
    # per customer
    r_x = r + x
    log_a3 = -r_x * log_alpha_T
    # A4 exists only for a repeat buyer
    log_a4 = np.where(repeat, np.log(a) + np.log(inverse_b) - r_x * log_alpha_t_x, -np.inf)
    log_a34 = np.logaddexp(log_a3, log_a4)
    w3, w4 = np.exp(log_a3 - log_a34), np.exp(log_a4 - log_a34)
    ll = log_a12 + log_a34
    d_r = d_r_x - w3 * log_alpha_T - w4 * log_alpha_t_x
    d_alpha = r / alpha - r_x * (w3 * inverse_alpha_T + w4 * inverse_alpha_t_x)
    d_a = d_a_x + w4 / a
    d_b = d_b_x - w4 * inverse_b
    return ll, np.column_stack([d_r, d_alpha, d_a, d_b])


def fit_bg_nbd(x, t_x, T, min_customers: int = 1, min_repeat_buyers: int = 1) -> Fit:
    """The BG/NBD maximum-likelihood fit on (x, t_x, T) per customer, t_x and T in weeks."""
    x, t_x, T = (np.asarray(column, dtype=float) for column in (x, t_x, T))
    customers, repeat_buyers = len(x), int(np.count_nonzero(x > 0))
    if customers < min_customers or repeat_buyers < min_repeat_buyers:
        return Fit(
            "bg_nbd",
            customers=customers,
            note=(
                f"too few customers to fit: {customers} with a purchase and {repeat_buyers} "
                f"with a repeat purchase (at least {min_customers} and {min_repeat_buyers} "
                "wanted)"
            ),
        )
    if not np.any(T > 0):
        return Fit("bg_nbd", customers=customers, note="every customer's first purchase is today")
    (x, t_x, T), weight = _distinct([x, t_x, T])
    total = weight.sum()
    levels = _levels(x), _levels(t_x), _levels(T)

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        ll, gradient = _bg_nbd_log_likelihood(params, x, *levels)
        value = -(weight @ ll) / total
        return value, -(weight @ gradient) * params / total

    # start: r = a = b = 1, and alpha the mean T (about one purchase over a typical tenure)
    start = np.log([1.0, max(float(np.mean(T)), 1e-3), 1.0, 1.0])
    result = _maximise(objective, start)
    return _fit_result("bg_nbd", BG_NBD_PARAMETERS, result, total, customers)


def _fit_result(
    model: str,
    names: tuple[str, ...],
    result: optimize.OptimizeResult,
    total: float,
    customers: int,
) -> Fit:
    params = np.exp(result.x)
    converged = bool(result.success) and bool(np.all(np.isfinite(params)))
    return Fit(
        model,
        params=dict(zip(names, (float(value) for value in params))),
        customers=customers,
        log_likelihood=float(-result.fun * total),
        converged=converged,
        note=None if converged else f"the fit did not converge: {result.message}",
    )


def bg_nbd_p_alive(params: dict[str, float], x, t_x, T) -> np.ndarray:
    """P(still active at T | x, t_x, T): the paper's equation 12. A customer without a
    repeat transaction cannot have dropped out yet (dropout follows a purchase)."""
    r, alpha, a, b = (params[name] for name in BG_NBD_PARAMETERS)
    x, t_x, T = (np.asarray(column, dtype=float) for column in (x, t_x, T))
    repeat = x > 0
    odds = np.where(
        repeat,
        a / np.where(repeat, b + x - 1, 1.0) * ((alpha + T) / (alpha + t_x)) ** (r + x),
        0.0,
    )
    return 1.0 / (1.0 + odds)


def bg_nbd_expected_purchases(params: dict[str, float], t: float, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T]: the paper's equation 10, t in weeks.

    Its Gauss hypergeometric function is evaluated after Euler's transformation,
    2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1-r-x) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose
    parameters stay small however many purchases a customer made.
    """
    r, alpha, a, b = (params[name] for name in BG_NBD_PARAMETERS)
    if abs(a - 1.0) < 1e-9:  # the closed form divides by a - 1; its limit is continuous
        a = 1.0 + 1e-9
    x, t_x, T = (np.asarray(column, dtype=float) for column in (x, t_x, T))
    c = a + b + x - 1
    z = t / (alpha + T + t)
    hypergeometric = special.hyp2f1(a + b - 1 - r, a - 1, c, z)
    numerator = c / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (a - 1) * hypergeometric)
    return numerator * bg_nbd_p_alive(params, x, t_x, T)


def bg_nbd_median_weeks_to_next_purchase(params: dict[str, float], x, T) -> np.ndarray:
    """The median time from T to the next purchase of a customer who is still active.

    While active, purchases are Poisson with a rate whose posterior after x repeat
    purchases observed for T weeks is gamma(r + x, alpha + T), so P(no purchase in the
    next w weeks | active) = ((alpha + T) / (alpha + T + w))^(r + x), and the median w
    solves that = 1/2. The median, not the
    mean: the mean waiting time is infinite when r + x <= 1 (every first-time buyer when
    r < 1, as in the paper). ``customer_predictions`` counts it from the last purchase
    (T = t_x), so that the expected date stays put while the customer does not buy.
    """
    r, alpha = params["r"], params["alpha"]
    x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
    return (alpha + T) * (2.0 ** (1.0 / (r + x)) - 1.0)


# ---------------------------------------------------------------------- Gamma-Gamma


def _gamma_gamma_log_likelihood(params, x, m, x_levels):
    """Each customer's log-likelihood of their mean repeat-transaction value m over x
    repeat transactions (the note's equation 3) and its gradient in (p, q, v)."""
    p, q, v = params
    xs, x_at = x_levels
    pxs = p * xs
    # the functions of x alone, once per distinct x
    log_x_part = (special.gammaln(pxs + q) - special.gammaln(pxs) + pxs * np.log(xs))[x_at]
    d_p_x = (xs * (special.digamma(pxs + q) - special.digamma(pxs) + np.log(xs)))[x_at]
    d_q_x = (special.digamma(pxs + q) - special.digamma(q))[x_at]
    px = p * x
    log_m, x_m = np.log(m), x * m
    log_v_x_m = np.log(v + x_m)
    ll = log_x_part - special.gammaln(q) + q * np.log(v) + (px - 1) * log_m - (px + q) * log_v_x_m
    d_p = d_p_x + x * (log_m - log_v_x_m)
    d_q = d_q_x + np.log(v) - log_v_x_m
    d_v = q / v - (px + q) / (v + x_m)
    return ll, np.column_stack([d_p, d_q, d_v])


def fit_gamma_gamma(x, m, min_customers: int = 1) -> Fit:
    """The Gamma-Gamma fit on the customers with x >= 1 repeat transactions of mean value
    m > 0 (others are left out: the model describes repeat transactions)."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    customers = int(np.count_nonzero(keep))
    if customers < min_customers:
        return Fit(
            "gamma_gamma",
            customers=customers,
            note=(
                f"too few customers with a repeat purchase to fit order values: {customers} "
                f"(at least {min_customers} wanted)"
            ),
        )
    (x, m), weight = _distinct([x[keep], m[keep]])
    total = weight.sum()
    x_levels = _levels(x)

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        ll, gradient = _gamma_gamma_log_likelihood(params, x, m, x_levels)
        return -(weight @ ll) / total, -(weight @ gradient) * params / total

    start = np.log([1.0, 2.0, max(float(np.average(m, weights=weight)), 1e-3)])
    result = _maximise(objective, start)
    fit = _fit_result("gamma_gamma", GAMMA_GAMMA_PARAMETERS, result, total, customers)
    if fit.usable and fit.params["q"] <= 1:
        return replace(
            fit,
            converged=False,
            note=f"q = {fit.params['q']:.3f} <= 1: the expected order value is infinite",
        )
    return fit


def gamma_gamma_expected_value(params: dict[str, float], x, m) -> np.ndarray:
    """E[a customer's mean transaction value | x, m]: a weighted mean of the population
    mean p v / (q - 1) and the customer's own mean m (the note's equation 5). A customer
    without a repeat transaction gets the population mean."""
    p, q, v = (params[name] for name in GAMMA_GAMMA_PARAMETERS)
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    population = p * v / (q - 1)
    own = np.where(x > 0, np.nan_to_num(m), 0.0)
    return np.where(x > 0, (p * (v + x * own)) / (p * x + q - 1), population)
