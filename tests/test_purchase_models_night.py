"""The BG/NBD paper's check through the project's own export path: the CDNOW sample's
transaction log (2,357 customers) written as an export, a whole night at 1997-09-30 (the
end of the paper's 39-week calibration period), and the parameters read back from
``marts.purchase_model_fits``.

The night counts purchases as it always does (completed, total > 0, one transaction per
calendar day), so the 8 customers whose only purchases in the 39 weeks were worth $0 are
not in the fit: the estimates stay within 1 % of the paper's, not to its three decimals
(``tests/test_purchase_models.py`` shows those on the paper's own summary).
"""

from __future__ import annotations

import math
from datetime import date

import duckdb
import pandas as pd
import pytest

from next_steps import nightly

from conftest import account, order, write_export
from test_purchase_models import DATASETS, PAPER_BG_NBD, PAPER_GAMMA_GAMMA

pytestmark = pytest.mark.slow

NIGHT = date(1997, 9, 30)


def cdnow_export(folder) -> None:
    """The CDNOW sample up to the night as an export: one account per customer (made-up
    names and addresses), one order per line of the log."""
    log = pd.read_csv(
        DATASETS / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "value"],
        dtype={"date": str},
    )
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d").dt.date
    log = log[log["date"] <= NIGHT]
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


def test_a_night_at_the_end_of_the_papers_calibration_period_gives_its_estimates(settings):
    cdnow_export(settings.landing_dir / NIGHT.isoformat())
    nightly.run_night(NIGHT, "cdnow")
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select model, parameter, value, time_unit, customers, converged, fit_note "
            "from marts.purchase_model_fits where as_of_date = ?",
            [NIGHT],
        ).fetchall()
    fits = {(model, parameter): row for model, parameter, *row in rows}
    assert set(fits) == {("bg_nbd", name) for name in PAPER_BG_NBD} | {
        ("gamma_gamma", name) for name in PAPER_GAMMA_GAMMA
    }
    for (model, parameter), (value, time_unit, customers, converged, note) in fits.items():
        published = {"bg_nbd": PAPER_BG_NBD, "gamma_gamma": PAPER_GAMMA_GAMMA}[model][parameter]
        assert converged and note is None
        assert math.isclose(value, published, rel_tol=0.01), (model, parameter, value)
        assert time_unit == ("week" if parameter == "alpha" else None)
        assert customers == {"bg_nbd": 2349, "gamma_gamma": 946}[model]
