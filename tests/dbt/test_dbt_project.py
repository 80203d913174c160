"""End-to-end tests of the dbt project (dbt_project/) on a small hand-made warehouse.

A fixture writes the raw schema the loader would create (two export nights) into a
temporary DuckDB file, points NEXT_STEPS_WAREHOUSE at it and runs `dbt build` through
dbt's programmatic runner. The expected figures below were computed by hand from the
dataset; the comments next to each account say which segment and step it should get.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from next_steps.ingest.schema import ensure_schema
from next_steps.publish.outreach import FILE_COLUMNS

from conftest import DBT_PROJECT_DIR, DbtWarehouse, _dbt_failures, insert_raw

NIGHT_1 = "2024-06-30"  # window (2023-06-30, 2024-06-30]
NIGHT_2 = "2024-07-31"  # window (2023-07-31, 2024-07-31]

# --------------------------------------------------------------------------- dataset
# The tables below are laid out one row per line, like the CSV files they stand for.
# fmt: off

# account_id, account_type, status, enrolled_at, sponsor_id, first_name, email,
# country, language, email_opt_in, autoship_active, rank
ACCOUNTS = [
    # no orders at all -> no_purchase, no step
    ("A01", "retail", "active", "2023-01-05", None, "Ann", "ann@example.com", "US", "en", True, False, None),
    # one purchase -> 1 -> second_order, listed
    ("A02", "retail", "active", "2022-03-01", None, "Bob", "bob@example.com", "US", "en", True, False, None),
    # two purchases, retail -> 2-3 -> preferred_customer, opted out: not listed
    ("A03", "retail", "active", "2022-03-01", "A06", "Cem", "cem@example.com", "US", "en", False, False, None),
    # three purchases, preferred without autoship -> 2-3 -> autoship, invalid e-mail: not listed
    ("A04", "preferred", "active", "2022-03-01", "A06", "Dora", "not-an-email", "CA", "en", True, False, None),
    # five purchases, preferred with autoship -> 4-6, matches no rule
    ("A05", "preferred", "active", "2022-03-01", "A06", "Eve", "eve@example.com", "GB", "en", True, True, None),
    # four purchases, distributor without autoship -> 4-6 -> autoship, listed
    ("A06", "distributor", "active", "2021-01-01", None, "Finn", "finn@example.com", "PL", "pl", True, False, 3),
    # eight purchases in EUR, preferred -> 7-10 -> referral, no e-mail: not listed
    ("A07", "preferred", "active", "2021-06-01", "A06", "Gosia", None, "PL", "pl", True, True, None),
    # eleven purchases, distributor -> 11+, matches no rule
    ("A08", "distributor", "active", "2020-01-01", None, "Hal", "hal@example.com", "US", "en", True, True, 6),
    # purchases only before the window -> lapsed -> reactivation, listed
    ("A09", "retail", "inactive", "2021-02-01", None, "Ida", "ida@example.com", "MX", "es", True, False, None),
    # one order exactly on D-12 months (out), one the day after (in) -> 1 -> second_order, listed
    ("A10", "retail", "active", "2022-05-01", None, "Jan", "jan@example.com", "PL", "pl", True, False, None),
    # one order on D late in the day (in) -> 1 -> second_order, terminated: not listed
    ("A11", "retail", "terminated", "2022-05-01", None, "Kai", "kai@example.com", "US", "en", True, False, None),
    # only cancelled, returned and zero-total orders -> no_purchase
    ("A12", "preferred", "active", "2022-05-01", None, "Lea", "lea@example.com", "RU", "ru", True, False, None),
    # two purchases on night 1, both changed on night 2 -> 2-3 -> preferred_customer, listed
    ("A13", "retail", "active", "2022-05-01", None, "Max", "max@example.com", "GB", "en", True, False, None),
]
# enrolled after night 1: only in the night-2 snapshot
NEW_ON_NIGHT_2 = [
    ("A14", "retail", "active", "2024-07-10", "A06", "Nia", "nia@example.com", "US", "en", True, False, None),
]

# order_id, account_id, order_date, order_type, status, currency, order_total, updated_at
_C = "completed"


def _monthly(account_id, prefix, dates, total, currency="USD", order_type="standard"):
    return [
        (f"{prefix}{i:02d}", account_id, f"{d} 10:00:00", order_type, _C, currency, total, f"{d} 10:00:00")
        for i, d in enumerate(dates, start=1)
    ]


ORDERS_NIGHT_1 = [
    ("O0201", "A02", "2024-03-10 09:00:00", "standard", _C, "USD", "50.00", "2024-03-10 09:00:00"),
    ("O0301", "A03", "2023-09-01 12:00:00", "standard", _C, "USD", "40.00", "2023-09-01 12:00:00"),
    ("O0302", "A03", "2024-02-01 12:00:00", "standard", _C, "USD", "60.00", "2024-02-01 12:00:00"),
    *_monthly("A04", "O04", ["2023-08-01", "2023-12-01", "2024-04-01"], "30.00"),
    *_monthly("A05", "O05", ["2024-01-05", "2024-02-05", "2024-03-05", "2024-04-05", "2024-05-05"], "25.00",
              order_type="autoship"),
    *_monthly("A06", "O06", ["2023-10-01", "2023-11-01", "2024-01-01", "2024-05-01"], "100.00"),
    # 8 x EUR 50 at 1.08 = 8 x USD 54.00
    *_monthly("A07", "O07", ["2023-07-15", "2023-08-15", "2023-09-15", "2023-10-15",
                             "2023-11-15", "2023-12-15", "2024-01-15", "2024-02-15"], "50.00", currency="EUR"),
    *_monthly("A08", "O08", ["2023-07-10", "2023-08-10", "2023-09-10", "2023-10-10", "2023-11-10", "2023-12-10",
                             "2024-01-10", "2024-02-10", "2024-03-10", "2024-04-10", "2024-05-10"], "10.00"),
    ("O0901", "A09", "2022-05-01 08:00:00", "standard", _C, "USD", "20.00", "2022-05-01 08:00:00"),
    ("O0902", "A09", "2023-01-15 08:00:00", "standard", _C, "USD", "20.00", "2023-01-15 08:00:00"),
    # exactly 12 months before night 1 (late in the day, still that date): out of the window
    ("O1001", "A10", "2023-06-30 23:00:00", "standard", _C, "USD", "70.00", "2023-06-30 23:00:00"),
    # the day after D - 12 months: in the window
    ("O1002", "A10", "2023-07-01 00:30:00", "standard", _C, "USD", "80.00", "2023-07-01 00:30:00"),
    ("O1003", "A10", "2024-01-01 10:00:00", "standard", "cancelled", "USD", "99.00", "2024-01-02 10:00:00"),
    # on D itself, late in the day: in the window
    ("O1101", "A11", "2024-06-30 18:00:00", "standard", _C, "USD", "45.00", "2024-06-30 18:00:00"),
    ("O1201", "A12", "2024-01-01 10:00:00", "standard", "cancelled", "USD", "15.00", "2024-01-03 10:00:00"),
    ("O1202", "A12", "2024-02-01 10:00:00", "standard", "returned", "USD", "25.00", "2024-02-20 10:00:00"),
    ("O1203", "A12", "2024-03-01 10:00:00", "standard", _C, "USD", "0.00", "2024-03-01 10:00:00"),
    ("O1301", "A13", "2024-06-10 10:00:00", "standard", _C, "USD", "65.00", "2024-06-10 10:00:00"),
    ("O1302", "A13", "2024-06-20 12:00:00", "standard", _C, "USD", "35.00", "2024-06-20 12:00:00"),
]

ORDERS_NIGHT_2 = [
    # A13's first order was returned after night 1 (newer updated_at wins)
    ("O1301", "A13", "2024-06-10 10:00:00", "standard", "returned", "USD", "65.00", "2024-07-05 10:00:00"),
    # A13's second order re-exported as cancelled with the SAME updated_at: the later export wins
    ("O1302", "A13", "2024-06-20 12:00:00", "standard", "cancelled", "USD", "35.00", "2024-06-20 12:00:00"),
    # one day after night 1: outside night 1 (after D), inside night 2
    ("O1102", "A11", "2024-07-01 09:00:00", "standard", _C, "USD", "55.00", "2024-07-01 09:00:00"),
    # in GBP: 40 x 1.27 = 50.80
    ("O1401", "A14", "2024-07-20 09:00:00", "standard", _C, "GBP", "40.00", "2024-07-20 09:00:00"),
]

# order_id, line_number, sku, quantity, unit_price
ORDER_LINES_NIGHT_1 = [
    ("O0201", 1, "SKU-TEA", 2, "25.00"),
    ("O0301", 1, "SKU-TEA", 1, "40.00"),
]
ORDER_LINES_NIGHT_2 = [
    ("O1401", 1, "SKU-SOAP", 4, "10.00"),
]

# fmt: on


def _load_export(con: duckdb.DuckDBPyConnection, night: str, accounts, orders, order_lines) -> None:
    """Insert one export night the way the loader does (orders: volume = total)."""
    insert_raw(con, "accounts", night, accounts)
    insert_raw(
        con,
        "orders",
        night,
        [(*order[:6], Decimal(order[6]), Decimal(order[6]), order[7]) for order in orders],
    )
    insert_raw(con, "order_lines", night, [(*line[:4], Decimal(line[4])) for line in order_lines])


def write_raw_warehouse(path: Path) -> None:
    """Write both export nights into a fresh DuckDB file at `path`."""
    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)  # the loader's own raw and ops tables
        _load_export(con, NIGHT_1, ACCOUNTS, ORDERS_NIGHT_1, ORDER_LINES_NIGHT_1)
        _load_export(con, NIGHT_2, ACCOUNTS + NEW_ON_NIGHT_2, ORDERS_NIGHT_2, ORDER_LINES_NIGHT_2)
    finally:
        con.close()


# --------------------------------------------------------------------------- running dbt


def _mart_rows(warehouse: DbtWarehouse, table: str, as_of_date: str) -> list[tuple]:
    return warehouse.query(
        f"select * from marts.{table} where as_of_date = ? order by all", [as_of_date]
    )


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """Build night 1, then night 2, then night 1 again on one warehouse holding both
    exports; keep what the marts held after each run."""
    warehouse = DbtWarehouse(tmp_path_factory.mktemp("next_steps_dbt"))
    write_raw_warehouse(warehouse.path)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NEXT_STEPS_WAREHOUSE", str(warehouse.path))
        env.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

        warehouse.build(NIGHT_1)
        first_run = {t: _mart_rows(warehouse, t, NIGHT_1) for t in MARTS}
        first_run_outreach = warehouse.query(
            "select * from pump.pump_outreach_lists order by account_id"
        )

        warehouse.build(NIGHT_2)
        second_night = {t: _mart_rows(warehouse, t, NIGHT_2) for t in MARTS}

        warehouse.build(NIGHT_1)
        yield {
            "warehouse": warehouse,
            "first_run": first_run,
            "first_run_outreach": first_run_outreach,
            "second_night": second_night,
        }


MARTS = ("customer_segments", "segment_summary", "next_steps", "outreach_log")


def _segments(nights, night: str) -> dict[str, str]:
    rows = nights["warehouse"].query(
        "select account_id, segment from marts.customer_segments where as_of_date = ?", [night]
    )
    return dict(rows)


# --------------------------------------------------------------------------- tests

D = Decimal


def test_dbt_build_succeeds_for_two_nights_and_a_rerun(nights):
    assert all(nights["first_run"][t] for t in MARTS)
    assert all(nights["second_night"][t] for t in MARTS)


def test_every_account_of_the_snapshot_is_in_exactly_one_segment_each_night(nights):
    rows = nights["warehouse"].query(
        "select as_of_date, count(*), count(distinct account_id) from marts.customer_segments "
        "group by as_of_date order by as_of_date"
    )
    assert rows == [(date(2024, 6, 30), 13, 13), (date(2024, 7, 31), 14, 14)]


def test_accounts_land_in_the_segments_computed_by_hand(nights):
    assert _segments(nights, NIGHT_1) == {
        "A01": "no_purchase",
        "A02": "1",
        "A03": "2-3",
        "A04": "2-3",
        "A05": "4-6",
        "A06": "4-6",
        "A07": "7-10",
        "A08": "11+",
        "A09": "lapsed",
        "A10": "1",
        "A11": "1",
        "A12": "no_purchase",
        "A13": "2-3",
    }


def test_segment_summary_matches_the_figures_computed_by_hand(nights):
    rows = nights["warehouse"].query(
        "select segment, accounts, orders, revenue, average_order_value, revenue_share "
        "from marts.segment_summary where as_of_date = ? order by segment_sort_order",
        [NIGHT_1],
    )
    assert rows == [
        ("1", 3, 3, D("175.00"), D("58.33"), D("0.1142")),
        ("2-3", 3, 7, D("290.00"), D("41.43"), D("0.1893")),
        ("4-6", 2, 9, D("525.00"), D("58.33"), D("0.3427")),
        ("7-10", 1, 8, D("432.00"), D("54.00"), D("0.2820")),
        ("11+", 1, 11, D("110.00"), D("10.00"), D("0.0718")),
        ("lapsed", 1, 0, D("0.00"), None, D("0.0000")),
        ("no_purchase", 2, 0, D("0.00"), None, D("0.0000")),
    ]


def test_segment_summary_lists_empty_segments_with_zeros(nights):
    rows = nights["warehouse"].query(
        "select segment, accounts, orders, revenue, average_order_value "
        "from marts.segment_summary where as_of_date = ? and segment = '11+'",
        [NIGHT_2],
    )
    assert rows == [("11+", 0, 0, D("0.00"), None)]


def test_segment_revenue_adds_up_to_the_purchase_revenue_of_the_window(nights):
    rows = nights["warehouse"].query(
        "select as_of_date, sum(revenue), sum(revenue_share) from marts.segment_summary "
        "group by as_of_date order by as_of_date"
    )
    assert [(night, revenue) for night, revenue, _ in rows] == [
        (date(2024, 6, 30), D("1532.00")),  # 175 + 290 + 525 + 432 + 110
        (date(2024, 7, 31), D("1393.80")),  # 100.80 + 290 + 525 + 478
    ]
    assert all(abs(share - 1) <= D("0.001") for _, _, share in rows)


def test_order_exactly_twelve_months_before_the_night_is_outside_the_window(nights):
    rows = nights["warehouse"].query(
        "select orders_in_window, revenue_in_window, first_purchase_date, last_purchase_date, segment "
        "from marts.customer_segments where as_of_date = ? and account_id = 'A10'",
        [NIGHT_1],
    )
    # 2023-06-30 23:00 is out, 2023-07-01 00:30 is in; the cancelled order never counts
    assert rows == [(1, D("80.00"), date(2023, 6, 30), date(2023, 7, 1), "1")]
    assert _segments(nights, NIGHT_2)["A10"] == "lapsed"


def test_the_renamed_segment_columns_keep_their_old_names_for_a_release(nights):
    [(differing, rows)] = nights["warehouse"].query(
        "select count(*) filter (where orders_12m is distinct from orders_in_window "
        "or revenue_12m is distinct from revenue_in_window), count(*) from marts.customer_segments"
    )
    assert rows > 0 and differing == 0


def test_order_on_the_night_counts_and_an_order_after_it_waits_for_the_next_night(nights):
    rows = nights["warehouse"].query(
        "select as_of_date, orders_in_window, revenue_in_window, segment from marts.customer_segments "
        "where account_id = 'A11' order by as_of_date"
    )
    assert rows == [
        (date(2024, 6, 30), 1, D("45.00"), "1"),
        (date(2024, 7, 31), 2, D("100.00"), "2-3"),
    ]


def test_cancelled_returned_and_zero_total_orders_never_make_a_purchase(nights):
    assert _segments(nights, NIGHT_1)["A12"] == "no_purchase"


def test_reexported_order_changes_count_from_the_night_they_arrive(nights):
    # A13: O1301 completed -> returned (newer updated_at), O1302 completed -> cancelled
    # with the same updated_at (the later export wins). Night 1 never sees night 2's file.
    assert _segments(nights, NIGHT_1)["A13"] == "2-3"
    assert _segments(nights, NIGHT_2)["A13"] == "no_purchase"


def test_foreign_currency_orders_are_reported_in_usd(nights):
    rows = nights["warehouse"].query(
        "select account_id, revenue_in_window from marts.customer_segments "
        "where as_of_date = ? and account_id in ('A07', 'A14') order by account_id",
        [NIGHT_2],
    )
    # A07: 7 x EUR 50 x 1.08 (one purchase left the window); A14: GBP 40 x 1.27
    assert rows == [("A07", D("378.00")), ("A14", D("50.80"))]


def test_next_steps_follow_the_default_ladder(nights):
    rows = nights["warehouse"].query(
        "select account_id, next_step, rule_id from marts.next_steps where as_of_date = ?",
        [NIGHT_1],
    )
    assert {account: (step, rule) for account, step, rule in rows} == {
        "A02": ("second_order", "second_order_1"),
        "A03": ("preferred_customer", "preferred_customer_2_3"),
        "A04": ("autoship", "autoship_2_3"),
        # A06 matches autoship_4_6 too; the distributor rung comes first (it has sold
        # through A03-A07 and sponsored no distributor)
        "A06": ("first_sponsor", "distributor_first_sponsor"),
        "A07": ("referral", "referral_7_10"),
        # A08 (distributor, 11+) matches no customer rule; rank 6 is a leader
        "A08": ("leadership", "distributor_leadership"),
        "A09": ("reactivation", "reactivation_lapsed"),
        "A10": ("second_order", "second_order_1"),
        "A11": ("second_order", "second_order_1"),
        "A13": ("preferred_customer", "preferred_customer_2_3"),
        # A05 (preferred with autoship, 4-6) matches no rule; A01 and A12 never purchased
        "A01": (None, "no_step"),
        "A05": (None, "no_step"),
        "A12": (None, "no_step"),
    }


def test_outreach_list_leaves_out_terminated_opted_out_and_unreachable_accounts(nights):
    listed = {row[2]: row for row in nights["first_run_outreach"]}
    # the first night: every step is new, so everyone with a step is due; A11 terminated,
    # A03 opted out, A04 invalid e-mail, A07 no e-mail; nobody's holdout bucket
    # (md5 of "account|campaign") is below 10
    assert sorted(listed) == ["A02", "A06", "A08", "A09", "A10", "A13"]
    assert listed["A06"][1] == "first_sponsor"
    assert listed["A06"][7] == "established"  # distributor lists split by Fast Start
    assert listed["A13"] == (
        date(2024, 6, 30),
        "preferred_customer",
        "A13",
        "Max",
        "max@example.com",
        "en",
        "GB",
        "2-3",
        "preferred_customer",
        2,
        D("100.00"),
        date(2024, 6, 20),
        (
            "Bought 2-3 times in the last 12 months as a retail customer: "
            "joining the preferred-customer programme is the next step."
        ),
        "new_step",
        None,  # 10 days after the last purchase: no touchpoint day
        None,  # no sponsor
        None,
        None,  # no upline leader
        None,
        2,  # orders_in_window and revenue_in_window: release 0.2 appends the new names
        D("100.00"),
        None,  # no predictions: 13 purchasers are too few for the purchase models
        None,
        None,
        # A13 bought nothing with order lines, so nothing goes with theirs: the fallback,
        # what A03 (the only buyer of segment 2-3 with order lines) bought
        "SKU-TEA",
        "SKU-TEA, the product bought by the most buyers of their segment (2-3).",
    )


def test_outreach_list_columns_follow_the_e_mail_tool_contract(nights):
    columns = [row[0] for row in nights["warehouse"].query("describe pump.pump_outreach_lists")]
    # the night and the campaign, then the outreach writer's file columns, which name the
    # campaign and the night again (before the offer, the last columns added)
    assert FILE_COLUMNS[-4:] == ("campaign", "as_of_date", "offer_sku", "offer_reason")
    assert columns == ["as_of_date", "campaign", *FILE_COLUMNS[:-4], *FILE_COLUMNS[-2:]]


def test_rerunning_the_first_night_replaces_its_rows_and_keeps_the_second_night(nights):
    warehouse = nights["warehouse"]
    for table in MARTS:
        assert _mart_rows(warehouse, table, NIGHT_1) == nights["first_run"][table], table
        assert _mart_rows(warehouse, table, NIGHT_2) == nights["second_night"][table], table
        nights_held = warehouse.query(f"select distinct as_of_date from marts.{table} order by 1")
        assert nights_held == [(date(2024, 6, 30),), (date(2024, 7, 31),)], table


def test_outreach_lists_hold_the_night_built_and_the_later_nights_it_recomputes(nights):
    # night 1 was built again after night 2: night 2's log was recomputed with it
    rows = nights["warehouse"].query(
        "select distinct as_of_date from pump.pump_outreach_lists order by 1"
    )
    assert rows == [(date(2024, 6, 30),), (date(2024, 7, 31),)]
    assert (
        nights["warehouse"].query(
            "select * from pump.pump_outreach_lists where as_of_date = ? order by account_id",
            [NIGHT_1],
        )
        == nights["first_run_outreach"]
    )


def test_data_tests_of_models_with_history_check_only_what_the_night_wrote(nights):
    # A mart that keeps every night is tested on the rows the build wrote (night D, D and
    # the later nights it recomputes, or the listing nights campaign_performance
    # recomputes), a staging view on the export loaded for night D, so a night's tests
    # do not grow with history.
    manifest = json.loads((nights["warehouse"].target_path / "manifest.json").read_text())
    nodes = manifest["nodes"]
    with_history = set()
    for unique_id, node in nodes.items():
        if node["resource_type"] != "model":
            continue
        schema, materialized = node["config"]["schema"], node["config"]["materialized"]
        # suppression_audit: a view over two incremental marts; customer_segments and
        # the other views over a change history (`night_history`) give every night
        over_history = any(
            nodes[parent]["config"]["materialized"] == "night_history"
            for parent in node["depends_on"]["nodes"]
            if parent in nodes
        )
        if schema == "staging" or (
            schema == "marts"
            and (
                materialized == "incremental"
                or node["name"] == "suppression_audit"
                or (materialized == "view" and over_history)
            )
        ):
            with_history.add(unique_id)
    assert len(with_history) >= 14
    # `__night__`: the night, put in when the test runs (macro get_where_subquery), so
    # that the parse does not depend on the night
    night = "__night__"
    night_filter = re.compile(
        rf"^(as_of_date >?= {night}|listing_date >= {night} - 90|export_date = {night}"
        rf"|as_of_month >= cast\(date_trunc\('month', {night}\) as date\))"
    )
    tested = set()
    for node in nodes.values():
        if node["resource_type"] == "test" and node.get("attached_node") in with_history:
            assert night_filter.match(node["config"]["where"] or ""), node["unique_id"]
            tested.add(node["attached_node"])
    assert tested == with_history


def test_readers_of_the_history_views_filter_them_with_a_literal_night(nights):
    # DuckDB pushes a literal date into a view over a change history, so the view expands
    # only the nights in play; a filter read from a CTE is applied after the view has
    # expanded every night built (first_night_in_play). The last build re-ran NIGHT_1,
    # with no night built before it: the nights in play start at NIGHT_1.
    compiled = nights["warehouse"].target_path / "compiled" / "next_steps" / "models" / "marts"
    literal = f"where as_of_date >= cast('{NIGHT_1}' as date)"
    # outreach_log reads next_steps and customer_predictions (the expected purchase dates)
    assert (compiled / "outreach_log.sql").read_text().count(literal) == 2
    assert (compiled / "journey_transitions.sql").read_text().count(literal) == 2


def test_building_without_an_as_of_date_fails_with_a_clear_message(nights):
    result = nights["warehouse"].dbt("build")
    assert not result.success
    assert "The dbt var 'as_of_date' is required" in str(result.exception)
    # nothing was rebuilt: both nights are still there
    assert _segments(nights, NIGHT_2)["A13"] == "no_purchase"


@pytest.mark.parametrize("windows", [[30, 30], [0, 60], [], "30,60"])
def test_malformed_conversion_windows_fail_the_build_before_anything_is_built(nights, windows):
    variables = json.dumps({"as_of_date": NIGHT_2, "conversion_window_days": windows})
    result = nights["warehouse"].dbt("build", "--vars", variables)
    assert not result.success
    assert "The dbt var 'conversion_window_days' must" in str(result.exception)
    assert _segments(nights, NIGHT_2)["A13"] == "no_purchase"


# --------------------------------------------------------------------------- dbt unit tests
# The nightly build leaves dbt's unit tests out (they check the models' logic on fixed
# fixtures, not the night's data); the suite runs every one of them here.


def _unit_tests_of_the_project(project_dir: Path) -> set[str]:
    names = set()
    for path in sorted((project_dir / "models").rglob("*.yml")):
        names.update(
            test["name"] for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", [])
        )
    return names


def _unit_test_statuses(result) -> dict[str, str]:
    return {
        r.node.name: str(r.status)
        for r in result.result
        if r.node.unique_id.startswith("unit_test.")
    }


def test_every_dbt_unit_test_runs_and_passes(nights):
    result = nights["warehouse"].unit_tests(NIGHT_1)
    assert result.success, f"dbt unit tests failed: {_dbt_failures(result)}"
    statuses = _unit_test_statuses(result)
    expected = _unit_tests_of_the_project(DBT_PROJECT_DIR)
    assert len(expected) >= 49
    assert statuses == dict.fromkeys(expected, "pass")


WRONG_UNIT_TEST = """
unit_tests:
  - name: test_that_expects_the_wrong_segment
    model: customer_segments_history
    overrides:
      macros:
        is_incremental: false
      vars:
        as_of_date: "2024-06-30"
    given:
      - input: ref('built_nights')
        rows: []
      - input: ref('int_accounts_segmented')
        rows:
          - {account_id: "A1", segment: "1"}
    expect:
      rows:
        - {account_id: "A1", segment: "2-3"}
"""


def test_a_failing_dbt_unit_test_fails_the_run(nights, tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "models" / "marts" / "_wrong__unit_tests.yml").write_text(WRONG_UNIT_TEST)
    # the same warehouse (NEXT_STEPS_WAREHOUSE is set by the fixture), another project
    result = DbtWarehouse(tmp_path, project_dir=project).unit_tests(
        NIGHT_1, "customer_segments_history"
    )
    assert not result.success
    assert _unit_test_statuses(result) == {
        "test_customer_segments_stamps_every_account_with_the_as_of_date": "pass",
        "test_that_expects_the_wrong_segment": "fail",
    }


def test_every_unit_test_name_fits_a_postgres_relation_name():
    """dbt names a unit test's temporary relation after the test; PostgreSQL cuts
    identifiers at 63 bytes and dbt refuses longer ones, so the server target would fail."""
    too_long = [
        test["name"]
        for path in sorted((DBT_PROJECT_DIR / "models").rglob("*unit_tests.yml"))
        for test in yaml.safe_load(path.read_text())["unit_tests"]
        if len(test["name"].encode()) > 63
    ]
    assert too_long == []
