"""What reading ``marts.customer_predictions`` costs at a million accounts.

The view computes the purchase models' scores when read. This bench takes the view's
SQL and one night's fits from a warehouse a night was built in (``--warehouse``, read
only), puts them over a synthetic change history of ``--accounts`` purchasing accounts
(repeat purchases, recency and tenure drawn at random, seeded) in a new in-memory
database, and times reads of one night: ``p_alive`` alone, the expected date, each
horizon of expected purchases, and every score. It prints seconds per read.

    python benchmarks/predictions_read.py --warehouse data/warehouse.duckdb --accounts 1000000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

READS = {
    "p_alive": "count(p_alive)",
    "expected next purchase date": "count(expected_next_purchase_date)",
    "expected purchases, 30 days": "sum(expected_purchases_30d)",
    "expected purchases, 365 days": "sum(expected_purchases_365d)",
    "every score": "sum(expected_purchases_30d), sum(expected_purchases_90d), "
    "sum(predicted_value_365d), count(p_alive), count(expected_next_purchase_date)",
}


def synthetic_history(night, accounts: int, seed: int = 1) -> pd.DataFrame:
    """One version per account valid from the night: tenure up to three years, a
    geometric number of repeat purchases (at most one a week), recency within tenure."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 3 * 365, accounts)
    repeat = np.minimum(rng.geometric(0.4, accounts) - 1, tenure // 7)
    recency = np.where(repeat > 0, (rng.random(accounts) * tenure).astype(int), 0)
    first = pd.Timestamp(night) - pd.to_timedelta(tenure, unit="D")
    return pd.DataFrame(
        {
            "account_id": [f"A{i:08d}" for i in range(accounts)],
            "first_transaction_date": first.date,
            "last_transaction_date": (first + pd.to_timedelta(recency, unit="D")).date,
            "repeat_transactions": repeat,
            "repeat_transaction_value_mean": np.where(
                repeat > 0, rng.gamma(3.0, 20.0, accounts), np.nan
            ),
            "valid_from": pd.Timestamp(night).date(),
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    if not args.warehouse.is_file():
        parser.error(f"{args.warehouse}: no such warehouse file")
    with duckdb.connect(str(args.warehouse), read_only=True) as built:
        (view_sql,) = built.execute(
            "select sql from duckdb_views() "
            "where schema_name = 'marts' and view_name = 'customer_predictions'"
        ).fetchone() or (None,)
        fits = built.execute(
            "select * from marts.purchase_model_fits where as_of_date = "
            "(select max(as_of_date) from marts.purchase_model_fits where converged)"
        ).df()
    if view_sql is None or fits.empty:
        parser.error(f"{args.warehouse}: no customer_predictions view or no converged fit")
    night = pd.Timestamp(fits["as_of_date"].iloc[0]).date()
    connection = duckdb.connect()
    connection.execute("attach ':memory:' as warehouse")
    connection.execute("use warehouse")
    connection.execute("create schema marts")
    connection.register("fits_frame", fits)
    connection.execute("create table marts.purchase_model_fits as select * from fits_frame")
    connection.execute(
        "create table marts.built_nights as select cast(? as date) as as_of_date", [night]
    )
    connection.register("history_frame", synthetic_history(night, args.accounts))
    connection.execute(
        "create table marts.customer_transactions_history as "
        "select *, cast(null as date) as valid_to from history_frame"
    )
    connection.execute(view_sql)
    print(f"customer_predictions, {args.accounts:,} accounts, night {night}:")
    for label, columns in READS.items():
        started = time.perf_counter()
        connection.execute(
            f"select {columns} from marts.customer_predictions where as_of_date = ?", [night]
        ).fetchall()
        print(f"  {label:<30} {time.perf_counter() - started:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
