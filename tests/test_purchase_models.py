"""The purchase models against the papers' published numbers, a second opinion (the
`lifetimes` package, dev only) and the edge cases a night meets.

The data: the CDNOW sample of 2,357 customers that the BG/NBD paper fits, as shipped in
the `lifetimes` wheel (its transaction log and its per-customer summary), read from the
files directly (`lifetimes.datasets` needs `pkg_resources`, which is not installed).
"""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from next_steps.predict import purchase_models as pm

DATASETS = Path(importlib.util.find_spec("lifetimes").submodule_search_locations[0]) / "datasets"
CALIBRATION_END = pd.Timestamp("1997-09-30")  # the end of the paper's 39 weeks

# Fader, Hardie & Lee (2005), "Counting your customers the easy way", section 5
PAPER_BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PAPER_BG_NBD_LOG_LIKELIHOOD = -9582.4
# Fader & Hardie (2013), "The Gamma-Gamma model of monetary value", on the same customers'
# repeat transactions in the 39 weeks (946 customers)
PAPER_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


def _within(fitted: dict[str, float], published: dict[str, float], tolerance: float) -> None:
    for name, value in published.items():
        assert fitted[name] == pytest.approx(value, rel=tolerance), (name, fitted[name], value)


def cdnow_log() -> pd.DataFrame:
    """The CDNOW sample's transaction log: one row per line, dates parsed."""
    log = pd.read_csv(
        DATASETS / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "value"],
        dtype={"date": str},
    )
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    return log


def per_customer(end: pd.Timestamp) -> pd.DataFrame:
    """Per customer, as a night at ``end`` counts it: purchases with a value above 0 up
    to it, one transaction per calendar day; x, recency and tenure in days, the mean value
    of the repeat transactions. Indexed by the log's customer id."""
    log = cdnow_log()
    purchases = log[(log["date"] <= end) & (log["value"] > 0)]
    days = purchases.groupby(["customer_id", "date"], as_index=False)["value"].sum()
    days = days.sort_values(["customer_id", "date"])
    by_customer = days.groupby("customer_id")["date"]
    first = by_customer.min()
    repeats = days[days.groupby("customer_id").cumcount() > 0]
    return pd.DataFrame(
        {
            "x": by_customer.count() - 1,
            "recency_days": (by_customer.max() - first).dt.days,
            "tenure_days": (end - first).dt.days,
            "m": repeats.groupby("customer_id")["value"].mean().reindex(first.index),
        }
    )


@pytest.fixture(scope="module")
def calibration():
    """The customers of the paper's 39 weeks as a night at 1997-09-30 counts them, with
    t_x and T in weeks."""
    customers = per_customer(CALIBRATION_END)
    return pd.DataFrame(
        {
            "x": customers["x"],
            "t_x": customers["recency_days"] / 7,
            "T": customers["tenure_days"] / 7,
            "m": customers["m"],
        }
    )


def test_bg_nbd_reproduces_the_papers_estimates_on_its_own_summary():
    """The paper's per-customer summary (all 2,357 customers, x, t_x and T in weeks to two
    decimals) gives the published parameters to their three decimals and the published
    log-likelihood."""
    summary = pd.read_csv(DATASETS / "cdnow_customers_summary.csv")
    fit = pm.fit_bg_nbd(summary["frequency"], summary["recency"], summary["T"])
    assert fit.converged and fit.customers == 2357
    for name, value in PAPER_BG_NBD.items():
        assert round(fit.params[name], 3) == value, (name, fit.params[name])
    assert fit.log_likelihood == pytest.approx(PAPER_BG_NBD_LOG_LIKELIHOOD, abs=0.05)


def test_bg_nbd_from_the_transaction_log_is_within_one_percent_of_the_paper(calibration):
    """Counted as a night counts (no zero-value purchase: 8 of the 2,357 customers bought
    only for $0 in the 39 weeks), the estimates stay within 1 % of the paper's."""
    fit = pm.fit_bg_nbd(calibration["x"], calibration["t_x"], calibration["T"])
    assert fit.converged and fit.customers == 2349
    _within(fit.params, PAPER_BG_NBD, 0.01)


def test_bg_nbd_conditional_expectation_matches_the_papers_worked_example():
    """The paper's example: a customer with x = 2, t_x = 30.43, T = 38.86 is expected to
    make 1.226 purchases in the next 39 weeks."""
    expected = pm.bg_nbd_expected_purchases(PAPER_BG_NBD, 39, [2], [30.43], [38.86])
    assert round(float(expected[0]), 3) == 1.226


def test_gamma_gamma_reproduces_the_published_estimates(calibration):
    fit = pm.fit_gamma_gamma(calibration["x"], calibration["m"])
    assert fit.converged and fit.customers == 946
    _within(fit.params, PAPER_GAMMA_GAMMA, 0.01)


def test_scores_agree_with_an_independent_implementation(calibration):
    """lifetimes (its own likelihood and its own hypergeometric form) fitted on the same
    data: the same parameters, and the same p_alive, expected purchases and expected
    order value per customer."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    x, t_x, T, m = (calibration[name].to_numpy() for name in ("x", "t_x", "T", "m"))
    ours = pm.fit_bg_nbd(x, t_x, T)
    theirs = BetaGeoFitter().fit(x, t_x, T)
    _within(ours.params, theirs.params_.to_dict(), 1e-4)
    params = ours.params
    assert np.allclose(
        pm.bg_nbd_p_alive(params, x, t_x, T),
        theirs.conditional_probability_alive(x, t_x, T),
        atol=1e-6,
    )
    for weeks in (30 / 7, 90 / 7, 365 / 7):
        assert np.allclose(
            pm.bg_nbd_expected_purchases(params, weeks, x, t_x, T),
            theirs.conditional_expected_number_of_purchases_up_to_time(weeks, x, t_x, T),
            atol=1e-5,
        )
    repeat = x > 0
    gg_ours = pm.fit_gamma_gamma(x, m)
    gg_theirs = GammaGammaFitter().fit(x[repeat], m[repeat])
    _within(gg_ours.params, gg_theirs.params_.to_dict(), 1e-3)
    assert np.allclose(
        pm.gamma_gamma_expected_value(gg_ours.params, x[repeat], m[repeat]),
        gg_theirs.conditional_expected_average_profit(x[repeat], m[repeat]),
        rtol=1e-3,
    )


def test_the_fit_does_not_depend_on_the_order_of_the_rows(calibration):
    shuffled = calibration.sample(frac=1.0, random_state=7)
    first = pm.fit_bg_nbd(calibration["x"], calibration["t_x"], calibration["T"])
    second = pm.fit_bg_nbd(shuffled["x"], shuffled["t_x"], shuffled["T"])
    assert first.params == second.params


def test_edge_customers_get_finite_scores():
    """One purchase only, all purchases on one day (both x = 0), a first purchase on the
    as-of date (T = 0), a heavy buyer: every score is finite; nobody without a repeat
    purchase can have dropped out (dropout follows a purchase)."""
    x = np.array([0, 0, 0, 60])
    t_x = np.array([0.0, 0.0, 0.0, 150.0])
    T = np.array([38.0, 2.0, 0.0, 152.0])
    p_alive = pm.bg_nbd_p_alive(PAPER_BG_NBD, x, t_x, T)
    assert list(p_alive[:3]) == [1.0, 1.0, 1.0]
    assert 0 < p_alive[3] < 1
    for weeks in (30 / 7, 365 / 7):
        expected = pm.bg_nbd_expected_purchases(PAPER_BG_NBD, weeks, x, t_x, T)
        assert np.all(np.isfinite(expected)) and np.all(expected > 0)
    # the newest customer (T = 0) is the least known: more expected than an old one-timer
    assert expected[2] > expected[0]
    wait = pm.bg_nbd_median_weeks_to_next_purchase(PAPER_BG_NBD, x, T)
    assert np.all(np.isfinite(wait)) and np.all(wait > 0)
    # given active, a heavy buyer is due sooner than a one-time buyer
    assert wait[3] < wait[0]


def test_zero_and_missing_order_values_are_left_out_of_the_value_fit():
    rng = np.random.default_rng(3)
    x = rng.integers(1, 6, size=400)
    m = rng.gamma(6.0, 5.0, size=400)
    fit = pm.fit_gamma_gamma(np.append(x, [2, 3, 0]), np.append(m, [0.0, np.nan, 10.0]))
    assert fit.customers == 400 and fit.usable
    value = pm.gamma_gamma_expected_value(fit.params, [0, 3], [np.nan, 40.0])
    assert value[0] == pytest.approx(fit.params["p"] * fit.params["v"] / (fit.params["q"] - 1))
    assert np.isfinite(value[1])


def test_thin_data_gives_a_note_not_an_error():
    one_timers = pm.fit_bg_nbd([0, 0, 0], [0, 0, 0], [5, 3, 1], min_repeat_buyers=1)
    assert not one_timers.usable and "repeat purchase" in one_timers.note
    first_night = pm.fit_bg_nbd([1, 0], [0, 0], [0, 0])
    assert not first_night.usable and "today" in first_night.note
    no_repeats = pm.fit_gamma_gamma([0, 0], [np.nan, np.nan], min_customers=1)
    assert not no_repeats.usable and "too few" in no_repeats.note


def test_a_fit_that_raises_leaves_a_note_and_the_night_goes_on(monkeypatch):
    """The rows of purchase_model_fits for a model whose fit raised: no values, not
    converged, the error in fit_note; the other model is fitted as usual."""
    from next_steps.predict import night

    def broken(*args, **kwargs):
        raise ValueError("array must not contain infs or NaNs")

    monkeypatch.setattr(pm, "fit_bg_nbd", broken)
    rng = np.random.default_rng(5)
    inputs = pd.DataFrame(
        {
            "repeat_transactions": rng.integers(0, 4, size=300),
            "recency_days": rng.integers(0, 50, size=300),
            "tenure_days": rng.integers(50, 100, size=300),
            "repeat_transaction_value_mean": rng.gamma(5.0, 8.0, size=300),
        }
    )
    inputs.loc[inputs["repeat_transactions"] == 0, "repeat_transaction_value_mean"] = np.nan
    fits = night.fit_night(inputs, pd.Series({"min_customers": 100, "min_repeat_buyers": 20}))
    rows = night.fit_rows(date(2025, 6, 30), fits)
    bg_nbd = rows[rows["model"] == "bg_nbd"]
    assert bg_nbd["value"].isna().all() and not bg_nbd["converged"].any()
    assert (bg_nbd["fit_note"] == "the fit failed: array must not contain infs or NaNs").all()
    gamma_gamma = rows[rows["model"] == "gamma_gamma"]
    assert gamma_gamma["converged"].all() and gamma_gamma["fit_note"].isna().all()
    assert list(rows["parameter"]) == ["r", "alpha", "a", "b", "p", "q", "v"]


def test_switched_off_no_model_is_fitted_and_each_row_says_why():
    """NEXT_STEPS_PURCHASE_MODELS=off (the dbt var purchase_models): the fits' rows are
    there without values, their note names the switch, the counts are the night's."""
    from next_steps.config import Settings
    from next_steps.predict import night

    inputs = pd.DataFrame(
        {
            "repeat_transactions": [0, 2, 5],
            "recency_days": [0, 30, 80],
            "tenure_days": [10, 60, 90],
            "repeat_transaction_value_mean": [np.nan, 20.0, 35.0],
        }
    )
    settings = pd.Series({"min_customers": 1, "min_repeat_buyers": 1})
    rows = night.fit_rows(date(2025, 6, 30), night.fit_night(inputs, settings, enabled=False))
    assert rows["value"].isna().all() and not rows["converged"].any()
    assert (rows["fit_note"] == night.SWITCHED_OFF).all()
    assert dict(zip(rows["model"], rows["customers"], strict=False)) == {
        "bg_nbd": 3,
        "gamma_gamma": 2,
    }
    assert Settings.from_env({}).purchase_models is True
    assert Settings.from_env({"NEXT_STEPS_PURCHASE_MODELS": "off"}).purchase_models is False
    with pytest.raises(ValueError, match="NEXT_STEPS_PURCHASE_MODELS='maybe' is not on or off"):
        Settings.from_env({"NEXT_STEPS_PURCHASE_MODELS": "maybe"})
