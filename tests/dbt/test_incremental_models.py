"""The incremental models give, night after night, exactly what a full rebuild gives:
``int_orders_deduplicated``, ``campaign_performance``, the purchases and their transaction
days (``int_purchases_to_date``, ``int_transactions_summarised_to_date``) and the product
facts (``int_order_lines_resolved``, ``int_account_products``, ``int_account_first_baskets``).

Four export nights are written by hand into a warehouse (a history export, then three
delta exports with re-exported orders, ties on ``updated_at``, two versions of an order
in one file, held orders whose account arrives later or never, and an account that
leaves the snapshot). One warehouse builds the nights forward (each a merge of the new
export rows), then an earlier night again (a rebuild) and the last one again (a merge on
top of it). After every build the table is compared with the latest version of every
order computed independently from the raw tables; at the end the night-D marts are
compared with those of a warehouse that built the last night only, from scratch, and
campaign_performance (after the forward nights and at the end) with the same table
built whole from the nights built. The product facts are compared after every build with
the same tables built whole for that night: the export's order lines include lines
re-exported for an order, an order whose status changes, an order that moves to another
account, an order whose date moves a day, a held order's lines, and an order dated after
its export night, which becomes a purchase on a later night with nothing new exported. A
forward night on which the reporting currency changed converts every purchase again, as a
build from scratch does, and sums every account's transaction days again.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from next_steps.ingest.schema import ensure_schema

from conftest import DbtWarehouse

# N4 is more than 90 days after N1: building it leaves N1's listing night in
# campaign_performance as it was (its conversion windows are closed)
N1, N2, N3, N4 = "2025-01-31", "2025-02-28", "2025-03-31", "2025-05-31"

# fmt: off
# account_id, account_type, enrolled_at, sponsor_id
_ACCOUNTS = {
    "A1": ("retail", "2024-01-01", None),
    "A2": ("preferred", "2024-01-01", None),
    "A3": ("distributor", "2024-01-01", None),
    "A4": ("retail", "2024-01-01", "A3"),
    "A5": ("retail", "2025-02-01", "A3"),
    "A6": ("retail", "2025-03-01", None),
}
SNAPSHOTS = {
    N1: ["A1", "A2", "A3", "A4"],
    N2: ["A1", "A2", "A3", "A4", "A5"],
    N3: ["A1", "A2", "A3", "A4", "A5", "A6"],
    N4: ["A1", "A2", "A3", "A4", "A5"],  # A6 left the snapshot
}

# order_id, account_id, order_date, status, order_total, updated_at; in file order
ORDERS = {
    N1: [
        ("O1", "A1", "2024-12-01 10:00:00", "completed", "50.00", "2024-12-01 10:00:00"),
        ("O2", "A1", "2025-01-05 10:00:00", "completed", "40.00", "2025-01-05 10:00:00"),
        ("O3", "A2", "2025-01-10 10:00:00", "returned", "30.00", "2025-01-20 10:00:00"),
        ("O4", "A3", "2025-01-15 10:00:00", "completed", "20.00", "2025-01-15 10:00:00"),
        ("O5", "A4", "2024-06-01 10:00:00", "completed", "10.00", "2024-06-01 10:00:00"),
    ],
    N2: [
        # a newer version wins
        ("O1", "A1", "2024-12-01 10:00:00", "returned", "50.00", "2025-02-10 10:00:00"),
        # the same updated_at: the later export wins
        ("O2", "A1", "2025-01-05 10:00:00", "cancelled", "40.00", "2025-01-05 10:00:00"),
        # an older updated_at: the version of N1 stays
        ("O3", "A2", "2025-01-10 10:00:00", "completed", "30.00", "2025-01-12 10:00:00"),
        ("O7", "A5", "2025-02-20 10:00:00", "completed", "25.00", "2025-02-20 10:00:00"),
    ],
    N3: [
        ("O1", "A1", "2024-12-01 10:00:00", "completed", "50.00", "2025-03-01 10:00:00"),
        # two versions in one file with the same updated_at: the later line wins
        ("O4", "A3", "2025-01-15 10:00:00", "cancelled", "20.00", "2025-03-05 10:00:00"),
        ("O4", "A3", "2025-01-15 10:00:00", "completed", "20.00", "2025-03-05 10:00:00"),
        ("O9", "A2", "2025-03-10 10:00:00", "completed", "35.00", "2025-03-10 10:00:00"),
    ],
    N4: [
        ("O2", "A1", "2025-01-05 10:00:00", "completed", "40.00", "2025-04-02 10:00:00"),
        ("O11", "A2", "2025-04-10 10:00:00", "completed", "15.00", "2025-04-10 10:00:00"),
    ],
}
# A4's second purchase day: A4 is a repeat buyer whose orders N2 and N3 leave as they are
ORDERS[N1].append(
    ("O13", "A4", "2024-09-01 10:00:00", "completed", "12.00", "2024-09-01 10:00:00")
)
# an order dated after its export night: a purchase from N4 on, with nothing exported then
ORDERS[N1].append(
    ("O12", "A3", "2025-04-15 10:00:00", "completed", "45.00", "2025-01-30 11:00:00")
)
# O5 moves from A4 to A5
ORDERS[N4].append(
    ("O5", "A5", "2024-06-01 10:00:00", "completed", "10.00", "2025-05-01 10:00:00")
)
# O9's order date is corrected a day later: its lines move to the new day
ORDERS[N4].append(
    ("O9", "A2", "2025-03-11 10:00:00", "completed", "35.00", "2025-05-02 10:00:00")
)
# order_id, line_number, sku, quantity; an order's lines are those of its latest export
ORDER_LINES = {
    N1: [
        ("O1", 1, "SKU-A", 2),
        ("O2", 1, "SKU-B", 1),
        ("O3", 1, "SKU-C", 1),
        ("O4", 1, "SKU-A", 1),
        ("O5", 1, "SKU-D", 3),
        ("O12", 1, "SKU-G", 1),
    ],
    N2: [
        ("O7", 1, "SKU-A", 1),
        ("O7", 2, "SKU-B", 1),
        ("O8", 1, "SKU-E", 1),  # the held order's lines
        ("O3", 1, "SKU-C", 2),  # re-exported lines, the order unchanged
    ],
    N3: [
        ("O9", 1, "SKU-B", 1),
        ("O10", 1, "SKU-A", 1),
        ("O4", 1, "SKU-F", 3),
    ],
    N4: [
        ("O11", 1, "SKU-A", 1),
        ("O2", 1, "SKU-B", 5),
    ],
}
# held by the loader: the account was in no snapshot yet on the export night
HELD_ORDERS = {
    # A6 arrives on N3 (the order counts from N3) and leaves again on N4
    N2: [("O8", "A6", "2025-02-25 10:00:00", "completed", "60.00", "2025-02-25 10:00:00")],
    # A7 never arrives
    N3: [("O10", "A7", "2025-03-15 10:00:00", "completed", "70.00", "2025-03-15 10:00:00")],
}
# fmt: on


def _write_raw(path) -> None:
    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)
        for night, account_ids in SNAPSHOTS.items():
            for line, account_id in enumerate(account_ids, start=2):
                account_type, enrolled_at, sponsor = _ACCOUNTS[account_id]
                con.execute(
                    "insert into raw.accounts (export_date, source_line, account_id, "
                    "account_type, status, enrolled_at, sponsor_id, first_name, email, country, "
                    "language, email_opt_in, autoship_active, rank) "
                    "values (?, ?, ?, ?, 'active', ?, ?, 'Ann', ?, 'US', 'en', true, false, ?)",
                    [
                        night,
                        line,
                        account_id,
                        account_type,
                        enrolled_at,
                        sponsor,
                        f"{account_id.lower()}@example.com",
                        1 if account_type == "distributor" else None,
                    ],
                )
        for table, exports in (("orders", ORDERS), ("held_orders", HELD_ORDERS)):
            for night, rows in exports.items():
                # held rows keep their own line numbers in the same file, after the loaded ones
                first_line = 2 if table == "orders" else 2 + len(ORDERS[night])
                for line, (order_id, account_id, ordered, status, total, updated) in enumerate(
                    rows, start=first_line
                ):
                    con.execute(
                        f"insert into raw.{table} (export_date, source_line, order_id, "
                        "account_id, order_date, order_type, status, currency, order_total, "
                        "volume, updated_at) values (?, ?, ?, ?, ?, 'standard', ?, 'USD', ?, ?, ?)",
                        [night, line, order_id, account_id, ordered, status, total, total, updated],
                    )
        for night, rows in ORDER_LINES.items():
            for line, (order_id, line_number, sku, quantity) in enumerate(rows, start=2):
                con.execute(
                    "insert into raw.order_lines values (?, ?, ?, ?, ?, ?, 9.5)",
                    [night, line, order_id, line_number, sku, quantity],
                )
    finally:
        con.close()


# The definition, written independently of the model: every version exported up to D
# (held versions only when their account is in the latest snapshot up to D), the latest
# updated_at, then the later export, then the later line.
EXPECTED_WINNERS = """
with snapshot as (
    select account_id from raw.accounts
    where export_date = (select max(export_date) from raw.accounts where export_date <= $d)
),
versions as (
    select order_id, export_date, source_line, updated_at from raw.orders
    where export_date <= $d
    union all
    select order_id, export_date, source_line, updated_at from raw.held_orders
    where export_date <= $d and account_id in (select account_id from snapshot)
)
select order_id, export_date, source_line from versions
qualify row_number() over (
    partition by order_id order by updated_at desc, export_date desc, source_line desc
) = 1
order by order_id
"""
TABLE_WINNERS = (
    "select order_id, version_export_date, version_source_line "
    "from intermediate.int_orders_deduplicated order by order_id"
)
NIGHT_MARTS = ("customer_segments", "segment_summary", "next_steps", "journey_stages")


def _night_marts(warehouse: DbtWarehouse, night: str) -> dict[str, list[tuple]]:
    return {
        mart: warehouse.query(
            f"select * from marts.{mart} where as_of_date = ? order by all", [night]
        )
        for mart in NIGHT_MARTS
    }


CAMPAIGN_PERFORMANCE = "select * from marts.campaign_performance order by all"


def _campaign_performance_built_whole(warehouse: DbtWarehouse, night: str, root) -> list[tuple]:
    """campaign_performance built from scratch on a copy of the warehouse."""
    whole = DbtWarehouse(root)
    shutil.copyfile(warehouse.path, whole.path)
    whole.query("drop table marts.campaign_performance")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NEXT_STEPS_WAREHOUSE", str(whole.path))
        result = whole.dbt("run", "--select", "campaign_performance", as_of_date=night)
    assert result.success
    return whole.query(CAMPAIGN_PERFORMANCE)


PRODUCT_FACTS = (
    "int_purchases_to_date",
    "int_transactions_summarised_to_date",
    "int_order_lines_resolved",
    "int_account_products",
    "int_account_first_baskets",
)


def _product_facts(warehouse: DbtWarehouse) -> dict[str, list[tuple]]:
    return {
        name: warehouse.query(f"select * from intermediate.{name} order by all")
        for name in PRODUCT_FACTS
    }


def _product_facts_built_whole(warehouse: DbtWarehouse, night: str, root) -> dict:
    """The product facts built from scratch for ``night`` on a copy of the warehouse."""
    whole = DbtWarehouse(root)
    shutil.copyfile(warehouse.path, whole.path)
    scratch = warehouse.path.with_name(warehouse.path.name + ".scratch")
    shutil.copyfile(scratch, whole.path.with_name(whole.path.name + ".scratch"))
    for name in (*PRODUCT_FACTS, "incremental_nights_built"):
        whole.query(f"drop table intermediate.{name}")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NEXT_STEPS_WAREHOUSE", str(whole.path))
        result = whole.dbt("run", "--select", *PRODUCT_FACTS, as_of_date=night)
    assert result.success
    return _product_facts(whole)


CONVERTED = ("int_purchases_to_date", "int_transactions_summarised_to_date")


def _purchases_in_another_currency(warehouse: DbtWarehouse, night: str, root) -> tuple:
    """The purchases and their transaction days after a forward build of ``night`` in EUR
    (var reporting_currency) on a copy of ``warehouse``, and the same tables built whole."""
    tables = []
    for whole in (False, True):
        copy = DbtWarehouse(root / ("whole" if whole else "kept"))
        copy.path.parent.mkdir()
        shutil.copyfile(warehouse.path, copy.path)
        if whole:
            for name in CONVERTED:
                copy.query(f"drop table intermediate.{name}")
        with pytest.MonkeyPatch.context() as env:
            env.setenv("NEXT_STEPS_WAREHOUSE", str(copy.path))
            variables = json.dumps({"as_of_date": night, "reporting_currency": "EUR"})
            result = copy.dbt("run", "--select", *CONVERTED, "--vars", variables)
        assert result.success
        tables.append(
            {
                name: copy.query(f"select * from intermediate.{name} order by all")
                for name in CONVERTED
            }
        )
    return tuple(tables)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    incremental = DbtWarehouse(tmp_path_factory.mktemp("orders_incremental"))
    from_scratch = DbtWarehouse(tmp_path_factory.mktemp("orders_from_scratch"))
    _write_raw(incremental.path)
    _write_raw(from_scratch.path)
    builds = []
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        env.setenv("NEXT_STEPS_WAREHOUSE", str(incremental.path))
        # forward (merges), an earlier night again (a rebuild), the last night again
        performance = []
        facts = []
        for step, night in enumerate((N1, N2, N3, N4, N2, N4)):
            incremental.build(night)
            facts.append(
                (
                    night,
                    _product_facts(incremental),
                    _product_facts_built_whole(
                        incremental, night, tmp_path_factory.mktemp("facts")
                    ),
                )
            )
            if step == 0:  # N2, a forward night, leaves A3's and A4's orders as they are
                in_euros = _purchases_in_another_currency(
                    incremental, N2, tmp_path_factory.mktemp("in_euros")
                )
            builds.append(
                (
                    night,
                    incremental.query(TABLE_WINNERS),
                    incremental.query(EXPECTED_WINNERS, {"d": date.fromisoformat(night)}),
                )
            )
            if step in (3, 5):  # after the forward nights, and at the end
                performance.append(
                    (
                        incremental.query(CAMPAIGN_PERFORMANCE),
                        _campaign_performance_built_whole(
                            incremental, night, tmp_path_factory.mktemp("performance")
                        ),
                    )
                )
        incremental_marts = _night_marts(incremental, N4)
        incremental_orders = incremental.query(
            "select * from intermediate.int_orders_deduplicated order by order_id"
        )

        env.setenv("NEXT_STEPS_WAREHOUSE", str(from_scratch.path))
        from_scratch.build(N4)
        yield {
            "builds": builds,
            "facts": facts,
            "in_euros": in_euros,
            "performance": performance,
            "incremental_marts": incremental_marts,
            "incremental_orders": incremental_orders,
            "from_scratch_marts": _night_marts(from_scratch, N4),
            "from_scratch_orders": from_scratch.query(
                "select * from intermediate.int_orders_deduplicated order by order_id"
            ),
        }


def test_every_build_holds_the_latest_version_of_every_order_known_on_its_night(built):
    assert [night for night, _, _ in built["builds"]] == [N1, N2, N3, N4, N2, N4]
    for night, table, expected in built["builds"]:
        assert table == expected, night


def test_the_winners_computed_by_hand(built):
    winners = {night: {row[0]: row[1:] for row in table} for night, table, _ in built["builds"]}
    d = date.fromisoformat
    # N2: O1's newer version, O2's tie to the later export, O3's N1 version; O8 held
    assert winners[N2]["O1"] == (d(N2), 2)
    assert winners[N2]["O2"] == (d(N2), 3)
    assert winners[N2]["O3"] == (d(N1), 4)
    assert "O8" not in winners[N2]
    # N3: O4's later line of the same file; O8 counts (A6 arrived); O10 never does
    assert winners[N3]["O4"] == (d(N3), 4)
    assert winners[N3]["O8"] == (d(N2), 6)
    assert "O10" not in winners[N3]
    # N4: A6 left the snapshot, so its held order no longer counts
    assert "O8" not in winners[N4]
    assert winners[N4]["O2"] == (d(N4), 2)


def test_forward_nights_give_the_same_table_and_marts_as_a_build_from_scratch(built):
    assert built["incremental_orders"] == built["from_scratch_orders"]
    assert built["incremental_marts"] == built["from_scratch_marts"]
    assert all(built["from_scratch_marts"].values())


def test_campaign_performance_equals_the_table_built_whole_from_the_nights_built(built):
    for incremental, whole in built["performance"]:
        assert incremental == whole
    final, _ = built["performance"][-1]
    # listing nights more than 90 days before the last night built are kept, not rebuilt
    assert {row[1] for row in final} >= {date.fromisoformat(N1), date.fromisoformat(N4)}


def test_the_product_facts_of_every_build_equal_those_built_whole_for_its_night(built):
    assert [night for night, _, _ in built["facts"]] == [N1, N2, N3, N4, N2, N4]
    for night, incremental, whole in built["facts"]:
        assert incremental == whole, night


def test_the_product_facts_follow_the_orders_changes_by_hand(built):
    lines = {
        night: {
            (row[0], str(row[1]), row[2], row[3]): row[4]
            for row in facts["int_order_lines_resolved"]
        }
        for night, facts, _ in built["facts"][:4]
    }
    # O3 (A2, returned; N2's version is older) counts the lines re-exported on N2 from N2
    assert lines[N1][("A2", "2025-01-10", "SKU-C", "return")] == 1
    assert lines[N2][("A2", "2025-01-10", "SKU-C", "return")] == 2
    # O12 is dated after its export: a purchase from N4, with nothing exported on N4
    assert not any(key[2] == "SKU-G" for key in lines[N3])
    assert lines[N4][("A3", "2025-04-15", "SKU-G", "purchase")] == 1
    # O5 moved from A4 to A5 on N4
    assert ("A4", "2024-06-01", "SKU-D", "purchase") in lines[N3]
    assert ("A4", "2024-06-01", "SKU-D", "purchase") not in lines[N4]
    # O9's date moved a day on N4, its lines with it
    assert ("A2", "2025-03-10", "SKU-B", "purchase") in lines[N3]
    assert ("A2", "2025-03-10", "SKU-B", "purchase") not in lines[N4]
    assert lines[N4][("A2", "2025-03-11", "SKU-B", "purchase")] == 1
    assert lines[N4][("A5", "2024-06-01", "SKU-D", "purchase")] == 3
    # the held order's lines count once A6 is in the snapshot (N3), not after it left (N4)
    assert ("A6", "2025-02-25", "SKU-E", "purchase") in lines[N3]
    assert not any(key[0] == "A6" for key in lines[N4])


def test_a_changed_conversion_rate_converts_every_purchase_again(built):
    kept, whole = built["in_euros"]
    assert kept == whole
    # every purchase is in USD: converted to EUR at 1 / 1.08, none kept at USD's 1.0
    purchases = kept["int_purchases_to_date"]
    assert purchases and {row[5] for row in purchases} == {Decimal("0.9259259259")}
