"""An export unlike the generator's, for ``make bench``: the same people and orders,
reshaped the way real companies' exports differ from ours.

- **Deep sponsor trees by random attachment.** Every sponsored account gets a new
  sponsor: the latest distributor enrolled at or before a random point of the accounts
  before it, drawn close to the account itself (``u ** (1 / DEPTH_PULL)`` of its number),
  so lines run 30 and more levels deep instead of the generator's wide, leader-heavy
  tree.
- **Heavily skewed buyers.** ``WHALE_SHARE`` of the order rows move to the earliest
  ``WHALE_ACCOUNTS`` of the accounts, Zipf-like (a few of them get most): a handful of
  accounts buy for a whole team.
- **No ``order_lines`` file.**

Every draw is a hash of the row's own id, so each night of a multi-night export is
reshaped the same way (an order keeps its new account in every export that carries it).
Reads ``<landing>/<D>/`` of each night, writes ``<out>/<D>/`` with ``_SUCCESS`` last.

    python benchmarks/unlike_export.py LANDING OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

#: A sponsor is drawn at ``number * u ** (1 / DEPTH_PULL)``: the larger, the closer to the
#: account and the deeper the lines (about ``DEPTH_PULL * ln(accounts)`` levels).
DEPTH_PULL = 3
#: Share of order rows moved to the whales, and how many whales (a share of accounts).
WHALE_SHARE = 0.3
WHALE_ACCOUNTS = 0.001


def _uniform(column: str, salt: str) -> str:
    """A number in (0, 1], fixed by the value of ``column``."""
    return f"((md5_number({column} || '{salt}') % 1000000) + 1) / 1000000.0"


def reshape_night(connection, export: Path, out: Path) -> dict[str, int]:
    """Reshape one export folder; returns its row counts and sponsor-tree depth."""
    out.mkdir(parents=True, exist_ok=True)
    accounts, orders = export / "accounts.csv", export / "orders.csv"
    connection.execute(
        f"create or replace temp table accounts as select * from "
        f"read_csv('{accounts}', all_varchar = true, header = true)"
    )
    connection.execute(
        "create or replace temp table numbered as select *, "
        "cast(substr(account_id, 2) as bigint) as number from accounts"
    )
    connection.execute(
        f"""
        create or replace temp table reshaped as
        with distributors as (
            select number as sponsor_number, account_id as new_sponsor
            from numbered where account_type = 'distributor'
        ),
        drawn as (
            select *, greatest(1, floor((number - 1) * pow({_uniform("account_id", "s")},
                1.0 / {DEPTH_PULL})))::bigint as target
            from numbered
        )
        select drawn.* exclude (sponsor_id, target),
            case when drawn.sponsor_id is null then null
                 else coalesce(distributors.new_sponsor, drawn.sponsor_id) end as sponsor_id
        from drawn asof left join distributors on drawn.target >= distributors.sponsor_number
        """
    )
    columns = [row[0] for row in connection.execute("describe accounts").fetchall()]
    connection.execute(
        f"copy (select {', '.join(columns)} from reshaped order by number) "
        f"to '{out / 'accounts.csv'}' (header, quote '\"')"
    )
    total = connection.execute("select count(*) from numbered").fetchone()[0]
    whales = max(1, int(total * WHALE_ACCOUNTS))
    connection.execute(
        f"""
        copy (
            select o.order_id,
                case when {_uniform("o.order_id", "w")} <= {WHALE_SHARE}
                     then 'A' || lpad(cast(1 + floor({whales} * pow({_uniform("o.order_id", "z")},
                          2))::bigint as varchar), 7, '0')
                     else o.account_id end as account_id,
                o.* exclude (order_id, account_id)
            from read_csv('{orders}', all_varchar = true, header = true) as o
        ) to '{out / "orders.csv"}' (header, quote '\"')
        """
    )
    [(rows, depth)] = connection.execute(
        """
        with recursive line(account_id, sponsor_id, depth) as (
            select account_id, sponsor_id, 0 from reshaped where sponsor_id is null
            union all
            select r.account_id, r.sponsor_id, line.depth + 1
            from reshaped as r join line on r.sponsor_id = line.account_id
            where line.depth < 1000
        )
        select (select count(*) from reshaped), max(depth) from line
        """
    ).fetchall()
    (out / "_SUCCESS").touch()
    return {"accounts": rows, "max_depth": depth}


def reshape(landing: Path, out: Path) -> list[dict[str, int]]:
    """Reshape every export night under ``landing`` into ``out``."""
    import duckdb

    results = []
    with duckdb.connect() as connection:
        for export in sorted(p for p in landing.iterdir() if (p / "_SUCCESS").exists()):
            results.append(
                {"night": export.name, **reshape_night(connection, export, out / export.name)}
            )
    return results


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python benchmarks/unlike_export.py LANDING OUT", file=sys.stderr)
        return 2
    for result in reshape(Path(argv[0]), Path(argv[1])):
        print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
