"""End-to-end tests of the journey and distributor marts on a small hand-made warehouse.

Same approach as ``test_dbt_project.py``: the raw schema the loader would create
(``ensure_schema``), two export nights written by hand into a temporary DuckDB file, and
``dbt build`` run in-process through dbt's runner. The nights are built out of order
(night 2, then night 1, then night 2 again): building night 1 recomputes night 2's
transitions, so they do not depend on the order.

The sponsor tree (rank in brackets, D = distributor, C = customer)::

    L1 [6] -+- D2 [2] --- D3 [1] --- D4 [0] --- C5        four levels below L1
            +- C6
    X1 [0] <-> X2 [0]                                     a cycle: X1 sponsored by X2 and back
    U1 (sponsor GHOST is not in the snapshot)             an unknown sponsor
    P1                                                    a repeat customer, sponsors nobody

The expected figures were computed by hand; the comments say how.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pytest

from next_steps.ingest.schema import ensure_schema

from conftest import DbtWarehouse, insert_raw

NIGHT_1 = "2024-06-30"  # window (2023-06-30, 2024-06-30]; dormant when no volume after 2024-03-30
NIGHT_2 = "2024-07-31"  # window (2023-07-31, 2024-07-31]; dormant when no volume after 2024-04-30

# fmt: off
# account_id, account_type, status, enrolled_at, sponsor_id, first_name, email,
# country, language, email_opt_in, autoship_active, rank
ACCOUNTS = [
    ("L1", "distributor", "active", "2020-01-01", None, "Lena", "l1@example.com", "US", "en", True, False, 6),
    ("D2", "distributor", "active", "2022-01-01", "L1", "Dan", "d2@example.com", "US", "en", True, False, 2),
    ("D3", "distributor", "active", "2023-01-01", "D2", "Dee", "d3@example.com", "US", "en", True, False, 1),
    # enrolled 60 days before night 1: in Fast Start, too new to be dormant
    ("D4", "distributor", "active", "2024-05-01", "D3", "Dov", "d4@example.com", "US", "en", True, False, 0),
    ("C5", "retail", "active", "2024-05-10", "D4", "Cy", "c5@example.com", "US", "en", True, False, None),
    ("C6", "retail", "active", "2023-03-01", "L1", "Cat", "c6@example.com", "US", "en", True, False, None),
    ("X1", "distributor", "active", "2023-02-01", "X2", "Xia", "x1@example.com", "PL", "pl", True, False, 0),
    ("X2", "distributor", "active", "2023-02-01", "X1", "Xu", "x2@example.com", "PL", "pl", True, False, 0),
    ("U1", "retail", "active", "2023-04-01", "GHOST", "Uma", "u1@example.com", "GB", "en", True, False, None),
    ("P1", "preferred", "active", "2022-06-01", None, "Pia", "p1@example.com", "GB", "en", True, True, None),
]

# order_id, account_id, order_date, status, order_total, volume, updated_at
_C = "completed"
ORDERS_NIGHT_1 = [
    ("OL1", "L1", "2024-06-01 10:00:00", _C, "100.00", "80", "2024-06-01 10:00:00"),
    # D2's only volume, 2024-01-15: more than 3 months before night 1 -> dormant on night 1
    ("OD2a", "D2", "2024-01-15 10:00:00", _C, "50.00", "40", "2024-01-15 10:00:00"),
    ("OD3", "D3", "2024-06-10 10:00:00", _C, "30.00", "20", "2024-06-10 10:00:00"),
    # C5 buys 19 days after D4 (its sponsor) enrolled: D4's first sale within 30 days
    ("OC5", "C5", "2024-05-20 10:00:00", _C, "25.00", "20", "2024-05-20 10:00:00"),
    ("OP1a", "P1", "2024-02-01 10:00:00", _C, "40.00", "30", "2024-02-01 10:00:00"),
    ("OP1b", "P1", "2024-04-01 10:00:00", _C, "40.00", "30", "2024-04-01 10:00:00"),
    # a cancelled order is no purchase: X1 stays without a purchase
    ("OX1", "X1", "2024-06-05 10:00:00", "cancelled", "60.00", "50", "2024-06-06 10:00:00"),
]
ORDERS_NIGHT_2 = [
    # C6's first purchase: stage try -> buy, segment no_purchase -> 1
    ("OC6", "C6", "2024-07-15 10:00:00", _C, "20.00", "15", "2024-07-15 10:00:00"),
    # D2 buys again: no longer dormant; segment 1 -> 2-3
    ("OD2b", "D2", "2024-07-20 10:00:00", _C, "50.00", "10", "2024-07-20 10:00:00"),
]
# fmt: on

NEW_MARTS = ("journey_stages", "journey_transitions", "distributor_segments", "sponsor_tree_issues")


def _load_export(con: duckdb.DuckDBPyConnection, night: str, accounts, orders) -> None:
    """Insert one export night the way the loader does (standard orders in USD)."""
    insert_raw(con, "accounts", night, accounts)
    insert_raw(
        con,
        "orders",
        night,
        [
            (
                order_id,
                account_id,
                ordered,
                "standard",
                status,
                "USD",
                Decimal(total),
                Decimal(volume),
                updated,
            )
            for order_id, account_id, ordered, status, total, volume, updated in orders
        ],
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build night 2, then night 1 (out of order), then night 2 again; keep what the
    marts held in between."""
    warehouse = DbtWarehouse(tmp_path_factory.mktemp("journeys_dbt"))
    con = duckdb.connect(str(warehouse.path))
    try:
        ensure_schema(con)
        _load_export(con, NIGHT_1, ACCOUNTS, ORDERS_NIGHT_1)
        _load_export(con, NIGHT_2, ACCOUNTS, ORDERS_NIGHT_2)
    finally:
        con.close()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NEXT_STEPS_WAREHOUSE", str(warehouse.path))
        env.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

        first_build = warehouse.build(NIGHT_2)
        transitions_before_night_1 = warehouse.query(
            "select * from marts.journey_transitions order by all"
        )
        warehouse.build(NIGHT_1)
        transitions_after_night_1 = warehouse.query(
            "select * from marts.journey_transitions order by all"
        )
        migrations_after_night_1 = warehouse.query(
            "select * from marts.segment_migration_monthly order by all"
        )
        warehouse.build(NIGHT_2)
        yield {
            "warehouse": warehouse,
            "first_build": first_build,
            "transitions_before_night_1": transitions_before_night_1,
            "transitions_after_night_1": transitions_after_night_1,
            "migrations_after_night_1": migrations_after_night_1,
        }


def _by_account(built, sql: str, night: str) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in built["warehouse"].query(sql, [night])}


D = Decimal


# --------------------------------------------------------------------------- the tree


def test_a_sponsor_cycle_does_not_stop_the_night_and_is_reported_with_a_warning(built):
    # the build finished (the fixture asserts it) and the warn-level test fired
    statuses = built["first_build"]
    warning = "test.next_steps.assert_sponsor_tree_has_no_issues"
    assert statuses[warning] == "warn"
    assert set(statuses.values()) <= {"success", "pass", "warn", "no-op"}
    rows = built["warehouse"].query(
        "select as_of_date, account_id, issue, sponsor_account_id, detail "
        "from marts.sponsor_tree_issues order by all"
    )
    night_2 = date(2024, 7, 31)
    assert rows[-3:] == [
        (
            night_2,
            "U1",
            "unknown_sponsor",
            "GHOST",
            "sponsor GHOST is not an account of the snapshot",
        ),
        (night_2, "X1", "cycle", "X2", "sponsor line runs in a cycle: X1 -> X2 -> X1"),
        (night_2, "X2", "cycle", "X1", "sponsor line runs in a cycle: X2 -> X1 -> X2"),
    ]
    assert len(rows) == 6  # the same three on night 1


def test_the_renamed_distributor_columns_keep_their_old_names_for_a_release(built):
    [(differing, rows)] = built["warehouse"].query(
        "select count(*) filter (where personal_volume_12m is distinct from personal_volume_in_window "
        "or group_volume_12m is distinct from group_volume_in_window "
        "or first_sale_within_30_days is distinct from first_sale_within_first_sale_days "
        "or first_sponsored_distributor_within_60_days "
        "is distinct from first_sponsored_distributor_within_first_sponsor_days), count(*) "
        "from marts.distributor_segments"
    )
    assert rows > 0 and differing == 0


def test_downline_depth_and_group_volume_of_a_four_level_tree(built):
    rows = _by_account(
        built,
        "select account_id, frontline_size, frontline_distributors, downline_size, depth, "
        "active_downline, personal_volume_in_window, group_volume_in_window, nearest_upline_leader_id "
        "from marts.distributor_segments where as_of_date = ?",
        NIGHT_1,
    )
    assert rows == {
        # below L1: D2, C6 (level 1), D3 (2), D4 (3), C5 (4); D2, D3 and C5 bought in the window
        "L1": (2, 1, 5, 4, 3, D("80"), D("160"), None),  # 80 + 40 + 20 + 20
        "D2": (1, 1, 3, 3, 2, D("40"), D("80"), "L1"),  # 40 + 20 + 20
        "D3": (1, 1, 2, 2, 1, D("20"), D("40"), "L1"),  # 20 + 20
        "D4": (1, 0, 1, 1, 1, D("0"), D("20"), "L1"),  # C5's 20
        # the cycle: each counts the other once, the walk stops where it started
        "X1": (1, 1, 1, 1, 0, D("0"), D("0"), None),
        "X2": (1, 1, 1, 1, 0, D("0"), D("0"), None),
    }


def test_distributor_ladder_and_fast_start_on_night_1(built):
    rows = _by_account(
        built,
        "select account_id, ladder_step, is_dormant, has_sold, in_fast_start, "
        "first_sale_within_first_sale_days, first_sponsored_distributor_within_first_sponsor_days "
        "from marts.distributor_segments where as_of_date = ?",
        NIGHT_1,
    )
    assert rows == {
        "L1": ("leadership", False, True, False, False, False),
        # last volume 2024-01-15: no volume for 3 months -> reactivation first
        "D2": ("reactivation", True, True, False, False, False),
        # sponsored D4, who has not bought: no first sale yet
        "D3": ("first_sale", False, False, False, False, False),
        # C5 bought 19 days after D4 enrolled; D4 sponsored no distributor
        "D4": ("first_sponsor", False, True, True, True, False),
        # enrolled 2023-02-01, never any volume: dormant; each sponsored the other, a
        # distributor enrolled the same day (within 60 days)
        "X1": ("reactivation", True, False, False, False, True),
        "X2": ("reactivation", True, False, False, False, True),
    }


def test_a_distributor_between_the_ladder_steps_gets_no_step(built):
    rows = _by_account(
        built,
        "select account_id, ladder_step, is_dormant, has_sold, frontline_distributors "
        "from marts.distributor_segments where as_of_date = ?",
        NIGHT_2,
    )
    # D2 bought again on 2024-07-20 (not dormant), has sold (D3 bought) and has one
    # frontline distributor: neither first_sponsor nor build_depth
    assert rows["D2"] == (None, False, True, 1)


# --------------------------------------------------------------------------- journeys


def test_journey_stages_follow_purchases_and_referrals(built):
    rows = _by_account(
        built,
        "select account_id, stage, purchases_to_date, sponsored_buyers, segment "
        "from marts.journey_stages where as_of_date = ?",
        NIGHT_1,
    )
    assert rows == {
        "L1": ("refer", 1, 1, "1"),  # D2 bought
        "D2": ("refer", 1, 1, "1"),  # D3 bought
        "D3": ("buy", 1, 0, "1"),  # D4 did not buy
        "D4": ("refer", 0, 1, "no_purchase"),  # C5 bought: refer without buying
        "C5": ("buy", 1, 0, "1"),
        "C6": ("try", 0, 0, "no_purchase"),
        "X1": ("try", 0, 0, "no_purchase"),  # a cancelled order only
        "X2": ("try", 0, 0, "no_purchase"),
        "U1": ("try", 0, 0, "no_purchase"),
        "P1": ("repeat", 2, 0, "2-3"),
    }


def test_the_first_night_built_has_no_transitions(built):
    assert built["transitions_before_night_1"] == []


def test_building_an_earlier_night_recomputes_the_later_nights_transitions(built):
    # building night 1 after night 2: night 1 has no earlier night, and night 2 is
    # recomputed against night 1; rebuilding night 2 gives the same rows
    assert built["transitions_after_night_1"] == built["warehouse"].query(
        "select * from marts.journey_transitions order by all"
    )
    rows = built["warehouse"].query(
        "select as_of_date, account_id, kind, from_value, to_value, previous_as_of_date "
        "from marts.journey_transitions order by all"
    )
    night_1, night_2 = date(2024, 6, 30), date(2024, 7, 31)
    assert rows == [
        (night_2, "C6", "segment", "no_purchase", "1", night_1),
        (night_2, "C6", "stage", "try", "buy", night_1),
        (night_2, "D2", "segment", "1", "2-3", night_1),
        # L1 stays refer, P1 stays repeat: unchanged values give no row
    ]


def test_segment_migration_counts_the_moves_per_month(built):
    rows = built["warehouse"].query("select * from marts.segment_migration_monthly order by all")
    assert rows == [
        (date(2024, 7, 1), "1", "2-3", 1, 1),
        (date(2024, 7, 1), "no_purchase", "1", 1, 1),
    ]
    # building June's night after July's recomputed July's transitions, and with them
    # July's migrations (the months from the night built on); July again changed nothing
    assert built["migrations_after_night_1"] == rows


def test_every_new_mart_keeps_both_nights(built):
    both_nights = [(date(2024, 6, 30),), (date(2024, 7, 31),)]
    for table in NEW_MARTS:
        nights = built["warehouse"].query(
            f"select distinct as_of_date from marts.{table} order by 1"
        )
        # night 1 has no earlier night, so no transition rows
        assert nights == (both_nights[1:] if table == "journey_transitions" else both_nights), table
