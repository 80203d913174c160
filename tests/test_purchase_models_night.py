"""The purchase models through the project's own export path: the CDNOW sample's
transaction log (2,357 customers) written as an export, a whole night at 1997-09-30 (the
end of the BG/NBD paper's 39-week calibration period); the parameters read back from
``marts.purchase_model_fits`` against the papers', and ``marts.customer_predictions``
(SQL, computed when read) against ``next_steps.predict`` (scipy).

The night counts purchases as it always does (completed, total > 0, one transaction per
calendar day), so the 8 customers whose only purchases in the 39 weeks were worth $0 are
not in the fit: the estimates stay within 1 % of the paper's, not to its three decimals
(``tests/test_purchase_models.py`` shows those on the paper's own summary).
"""

from __future__ import annotations

import math
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from next_steps import nightly
from next_steps.predict import purchase_models as pm

from conftest import account, order, write_export
from test_purchase_models import PAPER_BG_NBD, PAPER_GAMMA_GAMMA, cdnow_log, per_customer

pytestmark = pytest.mark.slow

NIGHT = date(1997, 9, 30)
EARLIER = date(1997, 9, 23)


def cdnow_export(folder, night: date = NIGHT) -> None:
    """The CDNOW sample up to the night as an export: one account per customer (made-up
    names and addresses), one order per line of the log."""
    log = cdnow_log()
    log["date"] = log["date"].dt.date
    log = log[log["date"] <= night]
    accounts = [
        account(
            f"C{customer:05d}",
            enrolled_at="1996-12-31",
            email=f"customer{customer}@example.com",
            country="US",
            language="en",
        )
        for customer in sorted(log["customer_id"].unique())
    ]
    orders = [
        order(
            f"O{index:06d}",
            f"C{row.customer_id:05d}",
            f"{row.date.isoformat()}T12:00:00Z",
            order_total=f"{row.value:.2f}",
            volume=f"{row.value:.2f}",
        )
        for index, row in enumerate(log.itertuples())
    ]
    write_export(folder, accounts, orders)


@pytest.fixture(scope="module")
def cdnow_night(tmp_path_factory):
    """The night at 1997-09-30 on the CDNOW export, run once for the tests below."""
    from next_steps.config import Settings

    data = tmp_path_factory.mktemp("cdnow") / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEXT_STEPS_DATA_DIR", str(data))
        settings = Settings.from_env()
        cdnow_export(settings.landing_dir / NIGHT.isoformat())
        nightly.run_night(NIGHT, "cdnow", settings)
        # a night before it, built after it: every night keeps its own fits
        cdnow_export(settings.landing_dir / EARLIER.isoformat(), EARLIER)
        nightly.run_night(EARLIER, "cdnow-earlier", settings)
    return settings


def _query(settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        return connection.execute(sql, [NIGHT]).df()


def test_a_night_at_the_end_of_the_papers_calibration_period_gives_its_estimates(cdnow_night):
    rows = _query(
        cdnow_night,
        "select model, parameter, value, time_unit, customers, converged, fit_note "
        "from marts.purchase_model_fits where as_of_date = ?",
    )
    fits = {(row.model, row.parameter): row for row in rows.itertuples()}
    assert set(fits) == {("bg_nbd", name) for name in PAPER_BG_NBD} | {
        ("gamma_gamma", name) for name in PAPER_GAMMA_GAMMA
    }
    for (model, parameter), row in fits.items():
        published = {"bg_nbd": PAPER_BG_NBD, "gamma_gamma": PAPER_GAMMA_GAMMA}[model][parameter]
        assert row.converged and pd.isna(row.fit_note)
        assert math.isclose(row.value, published, rel_tol=0.01), (model, parameter, row.value)
        assert (row.time_unit if not pd.isna(row.time_unit) else None) == (
            "week" if parameter == "alpha" else None
        )
        assert row.customers == {"bg_nbd": 2349, "gamma_gamma": 946}[model]


def test_the_predictions_view_scores_as_the_models_do(cdnow_night):
    """customer_predictions (SQL, computed when read) against next_steps.predict (scipy)
    on the night's own parameters, with each account's figures counted here from the
    transaction log."""
    fits = _query(
        cdnow_night,
        "select parameter, value from marts.purchase_model_fits where as_of_date = ?",
    )
    params = dict(zip(fits["parameter"], fits["value"], strict=True))
    predicted = _query(
        cdnow_night,
        "select * from marts.customer_predictions where as_of_date = ? order by account_id",
    )
    expected = per_customer(pd.Timestamp(NIGHT))
    expected.index = expected.index.map("C{:05d}".format)
    expected = expected.reindex(predicted["account_id"])
    assert len(predicted) == 2349 and predicted["prediction_note"].isna().all()
    assert (predicted["repeat_transactions"].to_numpy() == expected["x"].to_numpy()).all()
    assert (predicted["recency_days"].to_numpy() == expected["recency_days"].to_numpy()).all()
    assert (predicted["tenure_days"].to_numpy() == expected["tenure_days"].to_numpy()).all()
    x, t_x, T = expected["x"], expected["recency_days"] / 7, expected["tenure_days"] / 7
    assert np.allclose(predicted["p_alive"], pm.bg_nbd_p_alive(params, x, t_x, T), rtol=1e-9)
    for days_ahead in (30, 90, 365):
        assert np.allclose(
            predicted[f"expected_purchases_{days_ahead}d"],
            pm.bg_nbd_expected_purchases(params, days_ahead / 7, x, t_x, T),
            rtol=1e-8,
        ), days_ahead
    # from the last purchase, with the rate known then (T = t_x), at least a day
    wait = np.maximum(1, np.round(pm.bg_nbd_median_weeks_to_next_purchase(params, x, t_x) * 7))
    since_last = (expected["tenure_days"] - expected["recency_days"]).to_numpy()
    last = pd.Timestamp(NIGHT) - pd.to_timedelta(since_last, unit="D")
    expected_dates = last + pd.to_timedelta(wait, unit="D")
    assert (pd.to_datetime(predicted["expected_next_purchase_date"]) == expected_dates).all()
    value = pm.gamma_gamma_expected_value(params, x, expected["m"])
    assert np.allclose(predicted["expected_order_value"], value, rtol=1e-9)
    assert np.allclose(
        predicted["predicted_value_365d"],
        value * pm.bg_nbd_expected_purchases(params, 365 / 7, x, t_x, T),
        rtol=1e-8,
    )


def test_every_night_keeps_its_own_fits_and_predictions(cdnow_night):
    """The night a week earlier, built after 1997-09-30: both nights' fits stay, each on
    its own customers and estimates, and the predictions of each night are there."""
    with duckdb.connect(str(cdnow_night.warehouse), read_only=True) as connection:
        fits = connection.execute(
            "select as_of_date, model, min(customers), count(*), bool_and(converged) "
            "from marts.purchase_model_fits group by all order by all"
        ).fetchall()
        alphas = dict(
            connection.execute(
                "select as_of_date, value from marts.purchase_model_fits "
                "where model = 'bg_nbd' and parameter = 'alpha'"
            ).fetchall()
        )
        predicted = connection.execute(
            "select as_of_date, count(*), count(p_alive) from marts.customer_predictions "
            "group by all order by all"
        ).fetchall()
    assert [(night, model, rows, ok) for night, model, _, rows, ok in fits] == [
        (EARLIER, "bg_nbd", 4, True),
        (EARLIER, "gamma_gamma", 3, True),
        (NIGHT, "bg_nbd", 4, True),
        (NIGHT, "gamma_gamma", 3, True),
    ]
    assert fits[0][2] <= fits[2][2] == 2349
    assert alphas[EARLIER] != alphas[NIGHT]
    assert [night for night, _, _ in predicted] == [EARLIER, NIGHT]
    assert all(rows == scored for _, rows, scored in predicted)


def test_the_predictions_view_scores_edge_customers_as_the_models_do(cdnow_night, tmp_path):
    """The view's SQL on customers the CDNOW cohort does not have, with the night's own
    parameters: a first purchase on the night itself (T = 0), a single purchase day long
    ago, a recent heavy buyer, one whose rate puts the series' z near 1. Every score is
    finite and equals the scipy implementation's (on a copy of the night's warehouse)."""
    copy = tmp_path / "warehouse.duckdb"
    copy.write_bytes(cdnow_night.warehouse.read_bytes())
    edge = {  # account: (days since the first purchase, days first to last, x, mean value)
        "E_FIRST_ON_D": (0, 0, 0, None),
        "E_ONE_DAY_LONG_AGO": (260, 0, 0, None),
        "E_HEAVY_RECENT": (270, 268, 40, 25.0),
        "E_NEW_REPEAT": (3, 2, 1, 80.0),
    }
    with duckdb.connect(str(copy)) as connection:
        for account_id, (tenure, recency, x, mean) in edge.items():
            first = pd.Timestamp(NIGHT) - pd.Timedelta(days=tenure)
            connection.execute(
                "insert into marts.customer_transactions_history by name "
                "select ? as account_id, cast(? as date) as first_transaction_date, "
                "cast(? as date) as last_transaction_date, ? as repeat_transactions, "
                "? as repeat_transaction_value_mean, cast(? as date) as valid_from, "
                "null as valid_to",
                [
                    account_id,
                    first.date(),
                    (first + pd.Timedelta(days=recency)).date(),
                    x,
                    mean,
                    NIGHT,
                ],
            )
        params = dict(
            connection.execute(
                "select parameter, value from marts.purchase_model_fits where as_of_date = ?",
                [NIGHT],
            ).fetchall()
        )
        predicted = connection.execute(
            "select * from marts.customer_predictions "
            "where as_of_date = ? and account_id like 'E\\_%' escape '\\' order by account_id",
            [NIGHT],
        ).df()
    assert sorted(predicted["account_id"]) == sorted(edge)
    figures = np.array([edge[account_id] for account_id in predicted["account_id"]], dtype=object)
    T, t_x = figures[:, 0].astype(float) / 7, figures[:, 1].astype(float) / 7
    x = figures[:, 2].astype(float)
    for column in ("p_alive", "expected_purchases_30d", "expected_purchases_365d"):
        assert np.isfinite(predicted[column].to_numpy(dtype=float)).all(), column
    assert np.allclose(predicted["p_alive"], pm.bg_nbd_p_alive(params, x, t_x, T), rtol=1e-9)
    for days in (30, 90, 365):
        assert np.allclose(
            predicted[f"expected_purchases_{days}d"],
            pm.bg_nbd_expected_purchases(params, days / 7, x, t_x, T),
            rtol=1e-8,
        ), days
    value = pm.gamma_gamma_expected_value(params, x, figures[:, 3].astype(float))
    assert np.allclose(predicted["expected_order_value"], value, rtol=1e-9)
    first_on_d = predicted.set_index("account_id").loc["E_FIRST_ON_D"]
    assert first_on_d["p_alive"] == 1.0 and first_on_d["tenure_days"] == 0
    assert first_on_d["prediction_note"] is None or pd.isna(first_on_d["prediction_note"])
