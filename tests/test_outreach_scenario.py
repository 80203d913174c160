"""Seven nights of outreach, and people who take their step.

The generator writes a company's history; after every night, ``responses`` writes the
next export, in which half of the people listed that night take their step and a tenth of
everyone else with a step (the holdout among them) takes it anyway. The nights are
D, D+1, D+7, D+14, D+30, D+31 and D+45, so cool-downs start, hold and end.

Everything the pipeline decided is then recomputed here in plain Python from the export
files: each person's timing and contact facts, the outreach log (new step, touchpoint
day or a passed expected purchase date, cool-down, the MD5 holdout), who is in the files,
and every conversion and lift figure of ``campaign_performance``. The expected purchase
dates are read from ``customer_predictions`` (their arithmetic is checked against the
models in ``tests/test_purchase_models_night.py``).
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from math import sqrt
from pathlib import Path
from statistics import variance

import duckdb
import pytest

from next_steps import nightly
from next_steps.config import Settings
from next_steps.sample.generator import generate_export
from next_steps.sample.responses import write_response_night

from conftest import holdout_bucket
from seeds import months_before, project_var, seed, segment_of, setting

pytestmark = pytest.mark.slow

FIRST = date(2025, 5, 30)
NIGHTS = [FIRST + timedelta(days=offset) for offset in (0, 1, 7, 14, 30, 31, 45)]
TOUCHPOINT_DAYS = {int(row["days_since_last_purchase"]) for row in seed("touchpoint_days")}
COOL_DOWN_DAYS = setting("outreach_settings", "cool_down_days")
HOLDOUT_PERCENT = setting("outreach_settings", "holdout_percent")
LEADERSHIP_RANK = setting("distributor_ladder_settings", "leadership_min_rank")
BUILD_DEPTH_SPONSORING = setting("distributor_ladder_settings", "build_depth_sponsoring_fewer_than")
MIN_LIFT_GROUP_SIZE = setting("outreach_settings", "min_lift_group_size")
RATES = {  # to the reporting currency, as int_purchases_converted converts
    row["currency"]: Decimal(row["rate_to_reporting"])
    / Decimal(
        next(
            rate["rate_to_reporting"]
            for rate in seed("currency_rates")
            if rate["currency"] == project_var("reporting_currency")
        )
    )
    for row in seed("currency_rates")
}
WINDOWS = tuple(project_var("conversion_window_days"))
WINDOW_MONTHS = project_var("purchase_window_months")
EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)


def _rows(connection, sql: str) -> list[dict]:
    cursor = connection.execute(sql)
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _listed_in_files(outreach_folder: Path) -> dict[str, dict[str, str]]:
    listed = {}
    for path in outreach_folder.rglob("*.csv"):
        for row in _read(path):
            assert row["account_id"] not in listed, "a person is in two files on one night"
            listed[row["account_id"]] = row
    return listed


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> dict:
    data = tmp_path_factory.mktemp("scenario")
    landing = data / "landing"
    generate_export(landing, FIRST, orders=4000, seed=5)
    settings = Settings.from_env({"NEXT_STEPS_DATA_DIR": str(data)})
    taken: dict[date, dict[str, str]] = {}
    files: dict[date, dict[str, dict[str, str]]] = {}
    for night, next_night in zip(NIGHTS, [*NIGHTS[1:], None], strict=True):
        nightly.run_night(night, "scenario", settings)
        files[night] = _listed_in_files(settings.outreach_folder(night))
        if next_night is None:
            break
        with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
            steps = dict(
                connection.execute(
                    "select account_id, campaign from marts.next_steps "
                    "where as_of_date = ? and campaign is not null",
                    [night],
                ).fetchall()
            )
            # the offer each person's step carries; the listed got it in their file
            offers = dict(
                connection.execute(
                    "select account_id, offer_sku from marts.next_steps "
                    "where as_of_date = ? and offer_sku is not null",
                    [night],
                ).fetchall()
            )
        offers.update({a: row["offer_sku"] for a, row in files[night].items() if row["offer_sku"]})
        taken[next_night] = write_response_night(
            landing, night, next_night, steps, set(files[night]), offers=offers, seed=5
        ).taken
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        tables = {
            name: _rows(connection, f"select * from {name}")
            for name in (
                "marts.next_steps",
                "marts.outreach_log",
                "marts.campaign_performance",
                "marts.journey_transitions",
                "marts.suppression_audit",
            )
        }
        tables["expected_purchase_dates"] = {
            (night, account_id): expected
            for night, account_id, expected in connection.execute(
                "select as_of_date, account_id, expected_next_purchase_date "
                "from marts.customer_predictions where expected_next_purchase_date is not null"
            ).fetchall()
        }
    return {
        "settings": settings,
        "landing": landing,
        "taken": taken,
        "files": files,
        "tables": tables,
    }


class Ledger:
    """What the exports say, night by night, recomputed from the CSV files."""

    def __init__(self, landing: Path) -> None:
        self.snapshots = {
            night: _read(landing / night.isoformat() / "accounts.csv") for night in NIGHTS
        }
        latest: dict[str, tuple[str, date, dict]] = {}
        for night in NIGHTS:  # later exports win ties
            for row in _read(landing / night.isoformat() / "orders.csv"):
                known = latest.get(row["order_id"])
                if known is None or row["updated_at"] >= known[0]:
                    latest[row["order_id"]] = (row["updated_at"], night, row)
        self.orders = [(night, row) for _, night, row in latest.values()]
        self.cache: dict[date, dict] = {}

    def figures(self, night: date) -> dict[str, dict]:
        """Per account on ``night``: the facts the marts derive from the exports."""
        if night in self.cache:
            return self.cache[night]
        accounts = {row["account_id"]: row for row in self.snapshots[night]}
        purchases = defaultdict(list)
        for exported, row in self.orders:
            ordered = datetime.fromisoformat(row["order_date"].replace("Z", "+00:00")).date()
            if (
                exported <= night
                and ordered <= night
                and row["status"] == "completed"
                and Decimal(row["order_total"]) > 0
            ):
                purchases[row["account_id"]].append((ordered, row))
        frontline = defaultdict(list)
        for account in accounts.values():
            sponsor = account["sponsor_id"]
            if sponsor and sponsor in accounts and sponsor != account["account_id"]:
                frontline[sponsor].append(account)
        figures = {}
        for account_id, account in accounts.items():
            bought = purchases.get(account_id, [])
            distributors = [a for a in frontline[account_id] if a["account_type"] == "distributor"]
            figures[account_id] = {
                "account": account,
                "purchases": len(bought),
                "revenue": sum(
                    (
                        (Decimal(r["order_total"]) * RATES[r["currency"]]).quantize(
                            Decimal("0.01"), rounding=ROUND_HALF_UP
                        )
                        for _, r in bought
                    ),
                    Decimal(0),
                ),
                "segment": segment_of(
                    sum(months_before(night, WINDOW_MONTHS) < d for d, _ in bought),
                    purchased_before=bool(bought),
                ),
                "autoship_purchases": sum(r["order_type"] == "autoship" for _, r in bought),
                "last_purchase": max((d for d, _ in bought), default=None),
                "last_volume": max(
                    (d for d, r in bought if Decimal(r["volume"]) > 0), default=None
                ),
                "sponsored_buyers": sum(
                    bool(purchases.get(a["account_id"])) for a in frontline[account_id]
                ),
                "is_distributor": account["account_type"] == "distributor",
                "frontline_distributors": len(distributors),
                "sponsoring_frontline": sum(bool(frontline[a["account_id"]]) for a in distributors),
                "frontline_leaders": sum(
                    int(a["rank"] or 0) >= LEADERSHIP_RANK for a in distributors
                ),
            }
        self.cache[night] = figures
        return figures

    def revenue(self, account_id: str, listing: date, window_end: date) -> Decimal:
        """What the account's purchases brought in within a window, as the nights built
        show it: the growth of its revenue to date from the listing night to the last
        night built in (listing, window_end]; nothing without such a night."""
        built = [night for night in NIGHTS if listing < night <= window_end]
        if not built:
            return Decimal(0)
        later = self.figures(built[-1]).get(account_id)
        return (later["revenue"] if later else Decimal(0)) - self.figures(listing)[account_id][
            "revenue"
        ]

    def converted(self, campaign: str, account_id: str, listing: date, later: date) -> bool:
        before, after = self.figures(listing)[account_id], self.figures(later).get(account_id)
        if after is None:
            return False
        distributor = after["is_distributor"]
        return {
            "second_order": after["purchases"] > before["purchases"],
            "reactivation": after["purchases"] > before["purchases"],
            "at_risk": after["purchases"] > before["purchases"],
            "first_purchase": after["purchases"] > before["purchases"],
            "autoship": after["account"]["autoship_active"] == "true"
            or after["autoship_purchases"] > before["autoship_purchases"],
            "preferred_customer": after["account"]["account_type"] == "preferred",
            "referral": after["sponsored_buyers"] > before["sponsored_buyers"],
            "first_sale": distributor and after["sponsored_buyers"] > 0,
            "first_sponsor": distributor
            and after["frontline_distributors"] > before["frontline_distributors"],
            "build_depth": distributor and after["sponsoring_frontline"] >= BUILD_DEPTH_SPONSORING,
            "leadership": distributor and after["frontline_leaders"] > before["frontline_leaders"],
            "distributor_reactivation": distributor
            and after["last_volume"] is not None
            and after["last_volume"] > listing,
        }[campaign]


def wilson_interval(successes: int, trials: int) -> tuple[float, float]:
    """Wilson's score interval for a proportion, 95 % (Wilson 1927), written out here."""
    z = 1.959963984540054
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return centre - half, centre + half


def newcombe_interval(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Newcombe's (1998) hybrid score interval for p1 - p2 (his method 10)."""
    (l1, u1), (l2, u2) = wilson_interval(x1, n1), wilson_interval(x2, n2)
    p1, p2 = x1 / n1, x2 / n2
    return (
        p1 - p2 - sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        p1 - p2 + sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def _expected_log(
    steps_by_night: dict[date, dict[str, tuple]], expected_dates: dict[tuple, date]
) -> dict[tuple, tuple]:
    """The outreach rules replayed: (night, account) -> (campaign, due because, outcome,
    reason)."""
    log = {}
    previous: dict[str, str | None] = {}
    previous_night = None
    last_contact: dict[tuple[str, str], date] = {}
    for night in NIGHTS:
        tonight = steps_by_night[night]
        for account_id, (campaign, touchpoint, block, _segment) in sorted(tonight.items()):
            if campaign is None:
                continue
            expected, before = (
                expected_dates.get((night, account_id)),
                expected_dates.get((previous_night, account_id)),
            )
            if previous.get(account_id) != campaign:
                due = "new_step"
            elif touchpoint is not None:
                due = "touchpoint_day"
            elif expected and expected <= night and before and before > previous_night:
                due = "expected_purchase"  # passed since the previous night
            else:
                continue  # not due
            contacted = last_contact.get((account_id, campaign))
            if block is not None:
                log[night, account_id] = (campaign, due, "suppressed", block)
            elif contacted is not None and (night - contacted).days < COOL_DOWN_DAYS:
                log[night, account_id] = (campaign, due, "suppressed", "cool_down")
            else:
                last_contact[account_id, campaign] = night
                held = holdout_bucket(account_id, campaign) < HOLDOUT_PERCENT
                log[night, account_id] = (campaign, due, "holdout" if held else "listed", None)
        previous = {account_id: step[0] for account_id, step in tonight.items()}
        previous_night = night
    return log


def _steps_by_night(next_steps: list[dict]) -> dict[date, dict[str, tuple]]:
    steps: dict[date, dict[str, tuple]] = defaultdict(dict)
    for row in next_steps:
        steps[row["as_of_date"]][row["account_id"]] = (
            row["campaign"],
            row["touchpoint_day"],
            row["contact_block"],
            row["list_segment"],
        )
    return steps


def test_timing_and_contact_facts_match_the_exports(scenario):
    ledger = Ledger(scenario["landing"])
    steps = _steps_by_night(scenario["tables"]["marts.next_steps"])
    checked = 0
    for night in NIGHTS:
        figures = ledger.figures(night)
        assert set(steps[night]) == set(figures)
        for account_id, (campaign, touchpoint, block, _) in steps[night].items():
            facts = figures[account_id]
            account = facts["account"]
            days = (night - facts["last_purchase"]).days if facts["last_purchase"] else None
            if campaign == "first_purchase":  # its touchpoint days count from the enrolment
                days = (night - date.fromisoformat(account["enrolled_at"])).days
            assert touchpoint == (days if days in TOUCHPOINT_DAYS else None), account_id
            if campaign is None:
                assert block is None
                continue
            if account["status"] == "terminated":
                want = "terminated"
            elif account["email_opt_in"] != "true":
                want = "opted_out"
            elif not EMAIL.fullmatch(account["email"].strip()):
                want = "no_valid_email"
            elif campaign == "referral" and facts["sponsored_buyers"] > 0:
                want = "already_converted"
            else:
                want = None
            assert block == want, (night, account_id)
            checked += 1
    assert checked > 1000


def test_the_outreach_log_follows_timing_cool_down_and_a_stable_holdout(scenario):
    tables = scenario["tables"]
    expected = _expected_log(
        _steps_by_night(tables["marts.next_steps"]), tables["expected_purchase_dates"]
    )
    actual = {
        (row["as_of_date"], row["account_id"]): (
            row["campaign"],
            row["due_because"],
            row["outcome"],
            row["suppression_reason"],
        )
        for row in tables["marts.outreach_log"]
    }
    assert actual == expected
    due = {because for _, because, _, _ in actual.values()}
    assert due == {"new_step", "touchpoint_day", "expected_purchase"}, due

    outcomes = defaultdict(set)
    contacts = defaultdict(list)
    for (night, account_id), (campaign, _, outcome, _) in actual.items():
        if outcome in ("listed", "holdout"):
            outcomes[account_id, campaign].add(outcome)
            contacts[account_id, campaign].append(night)
    assert all(len(seen) == 1 for seen in outcomes.values()), "holdout must be stable"
    repeated = [key for key, nights in contacts.items() if len(nights) > 1]
    assert repeated, "the scenario must contact someone twice for the same campaign"
    assert any(outcomes[key] == {"holdout"} for key in repeated)
    for nights in contacts.values():
        nights.sort()
        assert all((b - a).days >= COOL_DOWN_DAYS for a, b in pairwise(nights))
    reasons = {reason for _, _, _, reason in actual.values()}
    assert {"cool_down", "opted_out", "no_valid_email"} <= reasons


def test_the_files_hold_exactly_the_listed_people(scenario):
    log = scenario["tables"]["marts.outreach_log"]
    settings = scenario["settings"]
    for night in NIGHTS:
        tonight = [row for row in log if row["as_of_date"] == night]
        listed = {row["account_id"]: row for row in tonight if row["outcome"] == "listed"}
        in_files = _listed_in_files(settings.outreach_folder(night))
        assert set(in_files) == set(listed)
        for account_id, row in listed.items():
            file_row = in_files[account_id]
            assert (file_row["next_step"], file_row["segment"]) == (
                row["next_step"],
                row["list_segment"],
            )
            assert file_row["due_because"] == row["due_because"]


def test_suppression_audit_accounts_for_everyone_with_a_step_not_in_a_file(scenario):
    tables = scenario["tables"]
    with_step = {
        (row["as_of_date"], row["account_id"])
        for row in tables["marts.next_steps"]
        if row["campaign"] is not None
    }
    audit = {(row["as_of_date"], row["account_id"]) for row in tables["marts.suppression_audit"]}
    listed = {
        (row["as_of_date"], row["account_id"])
        for row in tables["marts.outreach_log"]
        if row["outcome"] == "listed"
    }
    assert not audit & listed
    assert audit | listed == with_step
    reasons = {row["reason"] for row in tables["marts.suppression_audit"]}
    assert reasons >= {"not_due_today", "holdout", "cool_down", "opted_out"}


def test_segment_transitions_follow_the_exports_and_the_takers_move(scenario):
    ledger = Ledger(scenario["landing"])
    actual = {
        (row["as_of_date"], row["account_id"]): (row["from_value"], row["to_value"])
        for row in scenario["tables"]["marts.journey_transitions"]
        if row["kind"] == "segment"
    }
    expected = {}
    for before, night in pairwise(NIGHTS):
        was, now = ledger.figures(before), ledger.figures(night)
        for account_id in was.keys() & now.keys():
            if was[account_id]["segment"] != now[account_id]["segment"]:
                expected[night, account_id] = (
                    was[account_id]["segment"],
                    now[account_id]["segment"],
                )
    assert actual == expected
    # people who took second_order moved up from "1", unless an old purchase left the
    # purchase window on the same night
    second_orders = [
        (night, account_id)
        for night, taken in scenario["taken"].items()
        for account_id, campaign in taken.items()
        if campaign == "second_order"
    ]
    moved = [key for key in second_orders if actual.get(key) == ("1", "2-3")]
    assert len(second_orders) > 10 and len(moved) >= 0.8 * len(second_orders)


def test_campaign_performance_equals_an_independent_computation(scenario):
    tables = scenario["tables"]
    ledger = Ledger(scenario["landing"])
    steps = _steps_by_night(tables["marts.next_steps"])
    log = _expected_log(steps, tables["expected_purchase_dates"])
    measured_through = NIGHTS[-1]
    revenues: dict[tuple, dict[str, list[Decimal]]] = defaultdict(
        lambda: {"listed": [], "holdout": []}
    )
    expected: dict[tuple, dict[str, int]] = defaultdict(
        lambda: {"listed": 0, "holdout": 0, "listed_converted": 0, "holdout_converted": 0}
    )
    for (night, account_id), (campaign, _, outcome, _) in log.items():
        if outcome == "suppressed":
            continue
        later_nights = [m for m in NIGHTS if night < m <= night + timedelta(days=90)]
        converted_on = next(
            (m for m in later_nights if ledger.converted(campaign, account_id, night, m)), None
        )
        segment = steps[night][account_id][3]
        for window in WINDOWS:
            counts = expected[night, campaign, segment, window]
            counts[outcome] += 1
            revenues[night, campaign, segment, window][outcome].append(
                ledger.revenue(account_id, night, night + timedelta(days=window))
            )
            if converted_on is not None and converted_on <= night + timedelta(days=window):
                counts[f"{outcome}_converted"] += 1

    actual, intervals, revenue_intervals = {}, 0, 0
    for row in tables["marts.campaign_performance"]:
        listing, window = row["listing_date"], row["window_days"]
        assert row["measured_through"] == measured_through
        assert row["is_window_complete"] == (listing + timedelta(days=window) <= measured_through)
        counts = {
            key: row[key] for key in ("listed", "holdout", "listed_converted", "holdout_converted")
        }
        key = (listing, row["campaign"], row["segment"], window)
        actual[key] = counts
        spent = revenues[key]
        assert (row["listed_revenue"], row["holdout_revenue"]) == (
            sum(spent["listed"]),
            sum(spent["holdout"]),
        )
        complete = row["is_window_complete"]
        listed_rate = counts["listed_converted"] / counts["listed"] if counts["listed"] else None
        holdout_rate = (
            counts["holdout_converted"] / counts["holdout"] if counts["holdout"] else None
        )
        too_small = min(counts["listed"], counts["holdout"]) < MIN_LIFT_GROUP_SIZE
        assert row["is_group_too_small"] == too_small
        if not complete:  # a conversion still to come is not a zero
            assert row["listed_conversion_rate"] is row["absolute_lift"] is None
            assert row["absolute_lift_low"] is row["is_lift_significant"] is None
            continue
        assert row["listed_conversion_rate"] == pytest.approx(listed_rate)
        assert row["holdout_conversion_rate"] == pytest.approx(holdout_rate)
        if listed_rate is not None and holdout_rate is not None:
            assert row["absolute_lift"] == pytest.approx(listed_rate - holdout_rate)
            relative = (listed_rate - holdout_rate) / holdout_rate if holdout_rate else None
            assert row["relative_lift"] == pytest.approx(relative)
            low, high = newcombe_interval(
                counts["listed_converted"],
                counts["listed"],
                counts["holdout_converted"],
                counts["holdout"],
            )
            assert (row["absolute_lift_low"], row["absolute_lift_high"]) == pytest.approx(
                (low, high), rel=1e-9, abs=1e-12
            )
            assert row["is_lift_significant"] == (not too_small and (low > 0 or high < 0))
            intervals += 1
            # revenue per person, its difference with Welch's large-sample 95 % interval
            listed_mean = float(sum(spent["listed"])) / len(spent["listed"])
            holdout_mean = float(sum(spent["holdout"])) / len(spent["holdout"])
            difference = listed_mean - holdout_mean
            assert row["revenue_lift_per_person"] == pytest.approx(difference)
            assert row["incremental_revenue"] == pytest.approx(difference * counts["listed"])
            if min(len(spent["listed"]), len(spent["holdout"])) >= 2:
                error = sqrt(
                    variance([float(v) for v in spent["listed"]]) / len(spent["listed"])
                    + variance([float(v) for v in spent["holdout"]]) / len(spent["holdout"])
                )
                assert (row["revenue_lift_low"], row["revenue_lift_high"]) == pytest.approx(
                    (
                        difference - 1.959963984540054 * error,
                        difference + 1.959963984540054 * error,
                    ),
                    rel=1e-9,
                    abs=1e-9,
                )
                revenue_intervals += 1
    assert actual == dict(expected)
    assert intervals > 10 and revenue_intervals > 10
    assert any(sum(spent["listed"]) > 0 for spent in revenues.values())
    # the purchase models' step is measured like every campaign
    assert any(
        campaign == "at_risk" and counts["listed"] for (_, campaign, _, _), counts in actual.items()
    )

    # the scenario's people respond to outreach (1 in 2 listed, 1 in 10 others): the
    # measured lift over the first night's 30-day window must show it
    first = [v for k, v in actual.items() if k[0] == FIRST and k[3] == 30]
    listed = sum(v["listed"] for v in first)
    holdout = sum(v["holdout"] for v in first)
    assert holdout >= 10
    listed_rate = sum(v["listed_converted"] for v in first) / listed
    holdout_rate = sum(v["holdout_converted"] for v in first) / holdout
    assert listed_rate > holdout_rate + 0.15


def test_the_reports_show_lift_migration_and_the_month_before_as_the_marts_have_them(
    scenario, browser
):
    from selenium.webdriver.common.by import By

    settings = scenario["settings"]
    last, month_after_first = NIGHTS[-1], NIGHTS[5]  # D+45; D+31 is a month after D
    performance = scenario["tables"]["marts.campaign_performance"]
    closed = defaultdict(lambda: [0, 0, 0, 0])
    for row in performance:
        if row["window_days"] == 30 and row["is_window_complete"]:
            totals = closed[row["campaign"]]
            for i, key in enumerate(("listed", "listed_converted", "holdout", "holdout_converted")):
                totals[i] += row[key]
    transitions = defaultdict(set)
    for row in scenario["tables"]["marts.journey_transitions"]:
        if row["kind"] == "segment" and row["as_of_date"].replace(day=1) == last.replace(day=1):
            transitions[row["from_value"], row["to_value"]].add(row["account_id"])

    browser.get((settings.outreach_folder(last) / "report.html").as_uri())
    shown = {
        (bar.get_attribute("data-label"), bar.get_attribute("data-group")): bar.get_attribute(
            "data-value"
        )
        for bar in browser.find_elements(By.CSS_SELECTOR, "#chart-lift rect")
    }
    assert closed, "the scenario has closed 30-day windows"
    for campaign, (listed, listed_converted, holdout, holdout_converted) in closed.items():
        if listed:
            assert float(shown[campaign, "listed"]) == pytest.approx(listed_converted / listed)
        if holdout:
            assert float(shown[campaign, "holdout"]) == pytest.approx(holdout_converted / holdout)
    cells = {
        (cell.get_attribute("data-from"), cell.get_attribute("data-to")): int(
            cell.get_attribute("data-value")
        )
        for cell in browser.find_elements(By.CSS_SELECTOR, "#chart-migration rect")
    }
    assert transitions, "accounts changed segment in the last night's month"
    assert cells == {move: len(accounts) for move, accounts in transitions.items()}

    browser.get((settings.outreach_folder(month_after_first) / "report.html").as_uri())
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        summary = {
            night: dict(
                connection.execute(
                    "select segment, accounts from marts.segment_summary where as_of_date = ?",
                    [night],
                ).fetchall()
            )
            for night in (FIRST, month_after_first)
        }
    for segment, accounts in summary[month_after_first].items():
        row = browser.find_element(By.CSS_SELECTOR, f'tr[data-segment="{segment}"]')
        change = row.find_elements(By.TAG_NAME, "td")[6].get_attribute("data-value")
        assert int(float(change)) == accounts - summary[FIRST][segment]


def test_listed_people_take_their_offered_product_more_often_than_the_holdout(scenario):
    """The files carry each person's offer (the one next_steps holds for the night), and
    in the exports that follow, the people listed buy it more often than the people held
    out (who were never told), as the response nights make them do."""
    tables = scenario["tables"]
    offers = {
        (row["as_of_date"], row["account_id"]): row["offer_sku"]
        for row in tables["marts.next_steps"]
        if row["offer_sku"] is not None
    }
    for night, rows in scenario["files"].items():
        for account_id, row in rows.items():
            assert row["offer_sku"] == offers.get((night, account_id), ""), (night, account_id)
    bought: dict[str, list[tuple[date, str]]] = defaultdict(list)  # account -> (day, sku)
    for night in NIGHTS[1:]:
        folder = scenario["landing"] / night.isoformat()
        owner = {row["order_id"]: row["account_id"] for row in _read(folder / "orders.csv")}
        for line in _read(folder / "order_lines.csv"):
            bought[owner[line["order_id"]]].append((night, line["sku"]))
    took_offer: dict[str, list[bool]] = {"listed": [], "holdout": []}
    for row in tables["marts.outreach_log"]:
        offer = offers.get((row["as_of_date"], row["account_id"]))
        if row["outcome"] not in took_offer or offer is None:
            continue
        window_end = row["as_of_date"] + timedelta(days=WINDOWS[0])
        took_offer[row["outcome"]].append(
            any(
                row["as_of_date"] < day <= window_end and sku == offer
                for day, sku in bought[row["account_id"]]
            )
        )
    listed_rate = sum(took_offer["listed"]) / len(took_offer["listed"])
    holdout_rate = sum(took_offer["holdout"]) / len(took_offer["holdout"])
    assert len(took_offer["holdout"]) >= 10 and sum(took_offer["listed"]) >= 10
    assert listed_rate > 3 * holdout_rate
