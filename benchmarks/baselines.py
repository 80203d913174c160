"""Two ways to compute ``segment_summary`` without the pipeline, to measure it against.

- :func:`duckdb_floor`: one bare DuckDB SQL query straight from the CSV files: the least
  work a machine can do for the answer (no validation, no quarantine, no history).
- :func:`pandas_script`: what a user might write instead: ``read_csv`` and ``groupby``.

Both follow the rules of ``shared/DESIGN.md`` (latest version of an order by
``updated_at`` then line; purchase = completed and total > 0; the purchase window of the
dbt var ``purchase_window_months``; the segments of the seed ``segment_bands``; revenue
converted with ``dbt_project/seeds/currency_rates.csv`` and rounded to cents per order, as
the dbt models do) and return rows ``(segment, accounts, orders, revenue)``. They keep
their own arithmetic and read the rules where the pipeline reads them.
Run as a script (``python benchmarks/baselines.py duckdb|pandas EXPORT_DIR D``) they print
the rows as JSON, so the benchmark can time each in its own process.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RATES = ROOT / "dbt_project" / "seeds" / "currency_rates.csv"
SEGMENT_BANDS = ROOT / "dbt_project" / "seeds" / "segment_bands.csv"


def _segments() -> tuple[list[tuple[str, int, int | None]], dict[str, str]]:
    """The seed's count bands for purchases in the window, and the segment of each other
    purchase history (``before_window``, ``never``)."""
    with open(SEGMENT_BANDS, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    bands = [
        (row["segment"], int(row["min_purchases"]), int(row["max_purchases"] or 0) or None)
        for row in rows
        if row["purchase_history"] == "in_window"
    ]
    others = {
        row["purchase_history"]: row["segment"]
        for row in rows
        if row["purchase_history"] != "in_window"
    }
    return bands, others


def _window_months() -> int:
    from next_steps.config import dbt_var_default

    return int(dbt_var_default(ROOT / "dbt_project", "purchase_window_months"))


def _csv(export: Path, name: str) -> Path:
    plain = export / f"{name}.csv"
    return plain if plain.exists() else export / f"{name}.csv.gz"


def duckdb_floor(export: Path, night: date) -> list[tuple]:
    import duckdb

    counted, others = _segments()
    months = _window_months()
    bands = " ".join(
        f"when n >= {low}" + (f" and n <= {high}" if high else "") + f" then '{name}'"
        for name, low, high in counted
    )
    query = f"""
    with orders as (
        select *, row_number() over () as line
        from read_csv(?, header = true, all_varchar = true)
    ),
    latest as (
        select * from orders
        qualify row_number() over (partition by order_id order by updated_at desc, line desc) = 1
    ),
    rates as (select currency, cast(rate_to_reporting as decimal(38, 10)) as rate
              from read_csv(?, header = true, all_varchar = true)),
    purchases as (
        select account_id, cast(cast(order_date as timestamptz) at time zone 'UTC' as date) as day,
               round(cast(order_total as decimal(38, 4)) * rate, 2) as revenue
        from latest join rates using (currency)
        where status = 'completed' and cast(order_total as decimal(18, 4)) > 0
    ),
    per_account as (
        select a.account_id,
               count(p.day) filter (where p.day > date '{night}' - interval {months} month
                                    and p.day <= date '{night}') as n,
               coalesce(sum(p.revenue) filter (where p.day > date '{night}' - interval {months} month
                                               and p.day <= date '{night}'), 0) as revenue,
               count(p.day) filter (where p.day <= date '{night}') as ever
        from read_csv(?, header = true, all_varchar = true) as a
        left join purchases as p using (account_id)
        group by a.account_id
    )
    select case when n = 0 and ever > 0 then '{others["before_window"]}'
                when n = 0 then '{others["never"]}'
                {bands} end as segment,
           count(*) as accounts, sum(n) as orders, sum(revenue) as revenue
    from per_account group by 1 order by 1
    """
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        rows = connection.execute(
            query, [str(_csv(export, "orders")), str(RATES), str(_csv(export, "accounts"))]
        ).fetchall()
    return [(s, int(a), int(o), Decimal(str(r))) for s, a, o, r in rows]


def pandas_script(export: Path, night: date) -> list[tuple]:
    import pandas as pd

    orders = pd.read_csv(_csv(export, "orders"), dtype=str, keep_default_na=False)
    accounts = pd.read_csv(
        _csv(export, "accounts"), dtype=str, keep_default_na=False, usecols=["account_id"]
    )
    rates = pd.read_csv(RATES, dtype={"currency": str, "rate_to_reporting": str})
    orders["line"] = range(len(orders))
    latest = orders.sort_values(["order_id", "updated_at", "line"]).drop_duplicates(
        "order_id", keep="last"
    )
    latest = latest.merge(rates, on="currency")
    total = latest["order_total"].astype(float)
    purchases = latest[(latest["status"] == "completed") & (total > 0)].copy()
    purchases["day"] = pd.to_datetime(purchases["order_date"], utc=True).dt.date
    purchases = purchases[purchases["day"] <= night]
    purchases["revenue"] = [
        (Decimal(t) * Decimal(r)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        for t, r in zip(purchases["order_total"], purchases["rate_to_reporting"])
    ]
    counted, others = _segments()
    start = (pd.Timestamp(night) - pd.DateOffset(months=_window_months())).date()
    window = purchases[purchases["day"] > start]
    per_account = accounts.set_index("account_id")
    per_account["n"] = window.groupby("account_id").size()
    per_account["revenue"] = window.groupby("account_id")["revenue"].sum()
    per_account["ever"] = purchases.groupby("account_id").size()
    per_account = per_account.fillna({"n": 0, "ever": 0})
    per_account["revenue"] = per_account["revenue"].apply(
        lambda v: v if isinstance(v, Decimal) else Decimal(0)
    )

    def segment(row) -> str:
        n = int(row["n"])
        if n == 0:
            return others["before_window"] if row["ever"] > 0 else others["never"]
        return next(name for name, low, high in counted if n >= low and (high is None or n <= high))

    per_account["segment"] = per_account.apply(segment, axis=1)
    summary = per_account.groupby("segment").agg(
        accounts=("n", "size"), orders=("n", "sum"), revenue=("revenue", "sum")
    )
    return [
        (s, int(r.accounts), int(r.orders), Decimal(str(r.revenue)))
        for s, r in summary.sort_index().iterrows()
    ]


USAGE = "usage: python benchmarks/baselines.py duckdb|pandas EXPORT_DIR YYYY-MM-DD"


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("duckdb", "pandas"):
        print(USAGE, file=sys.stderr)
        return 2
    if not Path(argv[1]).is_dir():
        print(f"no export folder at {argv[1]!r}. {USAGE}", file=sys.stderr)
        return 2
    try:
        night = date.fromisoformat(argv[2])
    except ValueError:
        print(f"not a calendar date: {argv[2]!r}. {USAGE}", file=sys.stderr)
        return 2
    rows = (duckdb_floor if argv[0] == "duckdb" else pandas_script)(Path(argv[1]), night)
    print(json.dumps([[s, a, o, str(r)] for s, a, o, r in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
