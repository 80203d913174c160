"""An e-mail address is a person: suppression, one message per night and the cool-down
hold per address, compared trimmed and lower-cased, whichever account it comes through.

Three nights of a small company whose accounts share addresses in every way that matters
(an opted-out twin, a terminated twin, two steps, two purchase dates, a tie, a held-out
winner, a twin who arrives during a cool-down). The files are checked against the
exports with this file's own reading of the rule, then the decisions one by one, then
the same nights built out of order.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta

import duckdb
import pytest

from next_steps import nightly
from next_steps.config import Settings
from next_steps.publish import figures

from conftest import account, holdout_bucket, order, write_export

pytestmark = pytest.mark.slow

NIGHT_1 = date(2025, 6, 30)
NIGHT_2 = NIGHT_1 + timedelta(days=14)  # C1's touchpoint day 14, inside the cool-down
NIGHT_3 = date(2025, 8, 9)  # C2's touchpoint day 30, 40 days after the first contact
NIGHTS = (NIGHT_1, NIGHT_2, NIGHT_3)
HOLDOUT_PERCENT = 10


def _held_out_id() -> str:
    """An account id the stable holdout keeps out of `second_order`."""
    return next(
        f"H{n}" for n in range(1000) if holdout_bucket(f"H{n}", "second_order") < HOLDOUT_PERCENT
    )


HELD = _held_out_id()
HELD_TWIN = HELD + "z"  # sorts after HELD: HELD wins the tie


def _accounts(night: date) -> list[dict[str, str]]:
    rows = [
        account("OA", email="Alice@Example.com", email_opt_in="false"),
        account("OB", email="  alice@example.com "),
        account("TA", email="tom@example.com", status="terminated"),
        account("TB", email="TOM@EXAMPLE.COM"),
        account("W1", email="wendy@example.com"),
        account("W2", email="Wendy@Example.com"),
        account("R1", email="rita@example.com"),
        account("R2", email="RITA@example.com"),
        account("S1", email="sam@example.com"),
        account("S2", email="sam@example.com"),
        account(HELD, email="hal@example.com"),
        account(HELD_TWIN, email="Hal@example.com"),
        account("C1", email="carl@example.com"),
        account("Z1", email="zoe@example.com"),
    ]
    if night >= NIGHT_2:
        rows.append(account("C2", email=" Carl@Example.com"))
    return rows


def _orders(night: date) -> list[dict[str, str]]:
    rows = [
        order("o-oa", "OA", "2025-06-01T10:00:00Z"),
        order("o-ob", "OB", "2025-06-10T10:00:00Z"),
        order("o-ta", "TA", "2025-06-02T10:00:00Z"),
        order("o-tb", "TB", "2025-06-03T10:00:00Z"),
        order("o-w1", "W1", "2024-01-10T10:00:00Z"),  # lapsed: reactivation, priority 60
        order("o-w2", "W2", "2025-06-20T10:00:00Z"),  # bought once: second_order, priority 70
        order("o-r1", "R1", "2025-06-01T10:00:00Z"),
        order("o-r2", "R2", "2025-06-15T10:00:00Z"),  # the more recent purchase
        order("o-s1", "S1", "2025-06-05T10:00:00Z"),
        order("o-s2", "S2", "2025-06-05T10:00:00Z"),
        order("o-h", HELD, "2025-06-05T10:00:00Z"),
        order("o-hz", HELD_TWIN, "2025-06-05T10:00:00Z"),
        order("o-c1", "C1", "2025-06-30T10:00:00Z"),
        order("o-z1", "Z1", "2025-06-12T10:00:00Z"),
    ]
    if night >= NIGHT_2:
        rows.append(order("o-c2", "C2", "2025-07-10T10:00:00Z"))
    return rows


def _write_exports(landing) -> None:
    for night in NIGHTS:
        write_export(landing / night.isoformat(), _accounts(night), _orders(night))


def _run(data, nights) -> Settings:
    settings = Settings.from_env({"NEXT_STEPS_DATA_DIR": str(data)})
    _write_exports(settings.landing_dir)
    for night in nights:
        nightly.run_night(night, f"addresses-{night}", settings)
    return settings


def _table(settings: Settings, sql: str) -> list[dict]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        cursor = connection.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _normalised(address: str) -> str:
    return address.strip(" ").lower()


def _file_rows(settings: Settings, night: date) -> list[dict[str, str]]:
    rows = []
    for path in sorted(settings.outreach_folder(night).rglob("*.csv")):
        with open(path, encoding="utf-8", newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


@pytest.fixture(scope="module")
def in_order(tmp_path_factory) -> Settings:
    return _run(tmp_path_factory.mktemp("addresses"), NIGHTS)


def _expected_listing(account_id: str, campaign: str) -> str:
    return "holdout" if holdout_bucket(account_id, campaign) < HOLDOUT_PERCENT else "listed"


def test_no_file_holds_an_address_twice_or_one_that_is_blocked_anywhere(in_order):
    checked = 0
    for night in NIGHTS:
        snapshot = _accounts(night)
        blocked = {
            _normalised(row["email"])
            for row in snapshot
            if row["status"] == "terminated" or row["email_opt_in"] != "true"
        }
        seen: set[str] = set()
        for row in _file_rows(in_order, night):
            address = _normalised(row["email"])
            assert address not in blocked, (night, row["account_id"], row["email"])
            assert address not in seen, f"{address} is in the files twice on {night}"
            seen.add(address)
            checked += 1
    assert checked >= 5


def test_each_shared_address_is_decided_by_the_documented_rule(in_order):
    log = {
        (row["as_of_date"], row["account_id"]): row
        for row in _table(in_order, "select * from marts.outreach_log")
    }

    def decision(night, account_id):
        row = log[night, account_id]
        return row["campaign"], row["outcome"], row["suppression_reason"]

    n1 = NIGHT_1
    # an address opted out or terminated on one account is blocked on every account
    assert decision(n1, "OA") == ("second_order", "suppressed", "opted_out")
    assert decision(n1, "OB") == ("second_order", "suppressed", "address_opted_out")
    assert decision(n1, "TA") == ("second_order", "suppressed", "terminated")
    assert decision(n1, "TB") == ("second_order", "suppressed", "address_terminated")
    # the step with the lowest campaign priority wins (reactivation 60 < second_order 70),
    # although the other account bought more recently
    assert decision(n1, "W1") == ("reactivation", _expected_listing("W1", "reactivation"), None)
    assert decision(n1, "W2") == ("second_order", "suppressed", "duplicate_address")
    assert log[n1, "W2"]["address_chosen_account_id"] == "W1"
    # same priority: the more recent purchase wins
    assert decision(n1, "R2") == ("second_order", _expected_listing("R2", "second_order"), None)
    assert decision(n1, "R1") == ("second_order", "suppressed", "duplicate_address")
    # a full tie: the smaller account_id
    assert decision(n1, "S1") == ("second_order", _expected_listing("S1", "second_order"), None)
    assert decision(n1, "S2") == ("second_order", "suppressed", "duplicate_address")
    # a held-out winner still takes the address's one message: its twin is not listed
    assert decision(n1, HELD) == ("second_order", "holdout", None)
    assert decision(n1, HELD_TWIN) == ("second_order", "suppressed", "duplicate_address")
    assert decision(n1, "Z1") == ("second_order", _expected_listing("Z1", "second_order"), None)
    assert decision(n1, "C1") == ("second_order", _expected_listing("C1", "second_order"), None)

    # night 2: a new account with C1's address arrives within C1's cool-down. C2 wins the
    # address (more recent purchase) and is held back: the cool-down is the address's.
    n2 = NIGHT_2
    assert decision(n2, "C2") == ("second_order", "suppressed", "cool_down")
    assert log[n2, "C2"]["cool_down_since"] == NIGHT_1
    assert decision(n2, "C1") == ("second_order", "suppressed", "duplicate_address")
    # night 3: the cool-down is over for the address
    assert decision(NIGHT_3, "C2") == (
        "second_order",
        _expected_listing("C2", "second_order"),
        None,
    )
    assert (NIGHT_3, "C1") not in log  # not due: day 40 is no touchpoint day

    keys = {
        row["account_id"]: row["address_key"] for row in log.values() if row["as_of_date"] == n1
    }
    assert keys["OA"] == keys["OB"] and keys["W1"] == keys["W2"] and keys["S1"] == keys["S2"]
    assert len({keys["OA"], keys["TA"], keys["W1"], keys["R1"], keys["S1"]}) == 5


def test_everyone_left_out_for_an_address_is_in_the_audit_and_the_report(in_order):
    audit = {
        row["account_id"]: row["reason"]
        for row in _table(
            in_order,
            f"select * from marts.suppression_audit where as_of_date = date '{NIGHT_1}'",
        )
    }
    for account_id, reason in {
        "OB": "address_opted_out",
        "TB": "address_terminated",
        "W2": "duplicate_address",
        "R1": "duplicate_address",
        "S2": "duplicate_address",
        HELD_TWIN: "duplicate_address",
        HELD: "holdout",
    }.items():
        assert audit[account_id] == reason, account_id
    with duckdb.connect(str(in_order.warehouse), read_only=True) as connection:
        left_out = dict(figures.gather(connection, NIGHT_1, in_order).left_out)
    assert left_out["duplicate_address"] == 4
    assert left_out["address_opted_out"] == 1
    assert left_out["address_terminated"] == 1


def test_the_log_does_not_depend_on_the_order_nights_were_built_in(in_order, tmp_path):
    shuffled = _run(tmp_path / "shuffled", (NIGHT_2, NIGHT_3, NIGHT_1))
    query = (
        "select as_of_date, account_id, campaign, outcome, suppression_reason, "
        "cool_down_since, address_key, address_chosen_account_id "
        "from marts.outreach_log order by as_of_date, account_id"
    )
    assert _table(shuffled, query) == _table(in_order, query)
