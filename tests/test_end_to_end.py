"""A whole night through Airflow: generate an export, run ``next_steps_nightly`` with
``airflow dags test`` (SQLite metadata, DuckDB warehouse), and check the warehouse and the
outreach files against figures computed here, independently, from the generated CSVs."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from next_steps.sample.generator import generate_export

from conftest import dags_test_env, holdout_bucket
from seeds import customer_step, months_before, project_var, segment_of

ROOT = Path(__file__).resolve().parents[1]
NIGHT = date(2025, 11, 20)
EMAIL = re.compile(
    r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*"
    r"[A-Za-z0-9])?\.)+[A-Za-z]{2,}$"
)

pytestmark = pytest.mark.slow


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected_night(export: Path, night: date) -> dict:
    """The DESIGN.md rules, computed in plain Python from the export files."""
    rates = {
        row["currency"]: Decimal(row["rate_to_reporting"])
        for row in _read(ROOT / "dbt_project/seeds/currency_rates.csv")
    }
    accounts = {row["account_id"]: row for row in _read(export / "accounts.csv")}
    latest: dict[str, tuple[str, dict]] = {}
    for row in _read(export / "orders.csv"):  # later rows win ties: same export, later line
        if row["order_id"] not in latest or row["updated_at"] >= latest[row["order_id"]][0]:
            latest[row["order_id"]] = (row["updated_at"], row)
    window_start = months_before(night, project_var("purchase_window_months"))  # (start, D]
    purchases = defaultdict(list)
    for _, row in latest.values():
        ordered = datetime.fromisoformat(row["order_date"].replace("Z", "+00:00")).date()
        if row["status"] == "completed" and Decimal(row["order_total"]) > 0 and ordered <= night:
            purchases[row["account_id"]].append(
                (ordered, Decimal(row["order_total"]) * rates[row["currency"]])
            )
    per_account = {}
    for account_id, account in accounts.items():
        bought = purchases.get(account_id, [])
        in_window = [(d, v) for d, v in bought if window_start < d <= night]
        count = len(in_window)
        days = sorted({d for d, _ in bought})  # a day's purchases are one transaction
        per_account[account_id] = {
            # the BG/NBD paper's x, t_x and T, in weeks
            "x_tx_T": (len(days) - 1, (days[-1] - days[0]).days / 7, (night - days[0]).days / 7)
            if days
            else None,
            "segment": segment_of(count, purchased_before=bool(bought)),
            "orders": count,
            "revenue": _cents(sum((_cents(v) for _, v in in_window), Decimal(0))),
            "last": max((d for d, _ in bought), default=None),
            "account": account,
        }
    summary = defaultdict(lambda: {"accounts": 0, "orders": 0, "revenue": Decimal(0)})
    for figures in per_account.values():
        row = summary[figures["segment"]]
        row["accounts"] += 1
        row["orders"] += figures["orders"]
        row["revenue"] += figures["revenue"]
    return {"per_account": per_account, "summary": dict(summary)}


def p_alive(params: dict[str, float] | None, x_tx_T: tuple | None) -> float | None:
    """BG/NBD's P(alive | x, t_x, T), equation (12) of Fader, Hardie & Lee (2005), written
    out here, apart from the SQL macro and the package's function."""
    if params is None or x_tx_T is None:
        return None
    x, t_x, T = x_tx_T
    r, alpha, a, b = (params[name] for name in ("r", "alpha", "a", "b"))
    if x == 0:
        return 1.0
    odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return 1 / (1 + odds)


def expected_step(figures: dict, params: dict[str, float] | None) -> str | None:
    account = figures["account"]
    return customer_step(
        figures["segment"],
        account["account_type"],
        account["autoship_active"],
        p_alive(params, figures["x_tx_T"]),
        (NIGHT - date.fromisoformat(account["enrolled_at"])).days
        if account["enrolled_at"]
        else None,
    )


def reachable(account: dict) -> bool:
    return (
        account["status"] != "terminated"
        and account["email_opt_in"] == "true"
        and bool(EMAIL.match(account["email"].strip()))
    )


@pytest.fixture(scope="module")
def night_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("night")
    data = base / "data"
    generate_export(data / "landing", NIGHT, orders=4000, seed=7)
    env = dags_test_env(data, base / "airflow")
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True)

    def run(night: date = NIGHT) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(ROOT / "scripts/run_night.py"), night.isoformat()],
            env=env,
            capture_output=True,
            text=True,
        )

    first = run()
    assert first.returncode == 0, first.stdout + first.stderr
    outreach = data / "outreach" / NIGHT.isoformat()
    first_files = {p.relative_to(outreach): p.read_bytes() for p in outreach.rglob("*.csv")}
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as connection:
        first_summary = connection.execute(
            "select * from marts.segment_summary order by all"
        ).fetchall()
    second = run()
    assert second.returncode == 0, second.stdout + second.stderr
    return {
        "data": data,
        "airflow_home": base / "airflow",
        "first_files": first_files,
        "first_summary": first_summary,
        "stdout": second.stdout,
        "run": run,
        "expected": expected_night(data / "landing" / NIGHT.isoformat(), NIGHT),
    }


def test_segment_summary_matches_an_independent_computation(night_run):
    with duckdb.connect(str(night_run["data"] / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select segment, accounts, orders, revenue, average_order_value, revenue_share "
            "from marts.segment_summary where as_of_date = ?",
            [NIGHT],
        ).fetchall()
    expected = night_run["expected"]["summary"]
    total = sum(row["revenue"] for row in expected.values())
    assert {segment for segment, *_ in rows} == {
        "1",
        "2-3",
        "4-6",
        "7-10",
        "11+",
        "lapsed",
        "no_purchase",
    }
    for segment, accounts, orders, revenue, aov, share in rows:
        want = expected.get(segment, {"accounts": 0, "orders": 0, "revenue": Decimal(0)})
        assert (accounts, orders) == (want["accounts"], want["orders"]), segment
        assert Decimal(str(revenue)) == want["revenue"], segment
        if orders:
            assert float(aov) == pytest.approx(float(want["revenue"] / orders), abs=0.01)
            assert float(share) == pytest.approx(float(want["revenue"] / total), abs=1e-4)
    assert all(expected[s]["accounts"] > 0 for s in ("1", "2-3", "4-6", "7-10", "11+", "lapsed"))


def test_customer_segments_has_one_row_per_account_with_its_figures(night_run):
    with duckdb.connect(str(night_run["data"] / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select account_id, segment, orders_in_window, revenue_in_window, last_purchase_date "
            "from marts.customer_segments where as_of_date = ?",
            [NIGHT],
        ).fetchall()
    expected = night_run["expected"]["per_account"]
    assert len(rows) == len(expected)
    for account_id, segment, orders, revenue, last in rows:
        want = expected[account_id]
        assert (segment, orders, Decimal(str(revenue)), last) == (
            want["segment"],
            want["orders"],
            want["revenue"],
            want["last"],
        ), account_id


def test_outreach_files_list_exactly_the_reachable_people_with_a_step(night_run):
    folder = night_run["data"] / "outreach" / NIGHT.isoformat()
    listed = {}
    for path in folder.rglob("*.csv"):
        campaign, segment = path.stem.split("__")
        assert path.parent.name == campaign
        for row in _read(path):
            assert row["account_id"] not in listed, "a person is in two files"
            assert row["segment"] == segment
            assert (row["campaign"], row["as_of_date"]) == (campaign, NIGHT.isoformat())
            listed[row["account_id"]] = (campaign, row)
    expected = night_run["expected"]["per_account"]
    with duckdb.connect(str(night_run["data"] / "warehouse.duckdb"), read_only=True) as db:
        fitted = db.execute(
            "select parameter, value from marts.purchase_model_fits "
            "where as_of_date = ? and model = 'bg_nbd' and converged",
            [NIGHT],
        ).fetchall()
    params = dict(fitted) or None
    assert params, "the night's BG/NBD fit is what this test checks the at_risk step with"
    sponsored_buyers = Counter(
        figures["account"]["sponsor_id"]
        for account_id, figures in expected.items()
        if figures["last"] and figures["account"]["sponsor_id"] != account_id
    )
    # The first night: every step is new, so every reachable customer with a step is due
    # and listed, except the holdout and referral candidates who already referred a buyer.
    # Distributors get the distributor ladder first (tested in tests/dbt).
    want = {
        account_id
        for account_id, figures in expected.items()
        if figures["account"]["account_type"] != "distributor"
        and (step := expected_step(figures, params))
        and reachable(figures["account"])
        and holdout_bucket(account_id, step) >= 10
        and not (step == "referral" and sponsored_buyers[account_id])
    }
    customers = {
        account_id: value
        for account_id, value in listed.items()
        if expected[account_id]["account"]["account_type"] != "distributor"
    }
    assert set(customers) == want
    for account_id, (campaign, row) in customers.items():
        figures = expected[account_id]
        assert row["next_step"] == campaign == expected_step(figures, params)
        assert row["segment"] == figures["segment"]
        assert row["email"] == figures["account"]["email"].strip()
        assert int(row["orders_in_window"]) == figures["orders"]
        assert Decimal(row["revenue_in_window"]) == figures["revenue"]
        # release 0.2 keeps the old names in place, same values
        assert (row["orders_12m"], row["revenue_12m"]) == (
            row["orders_in_window"],
            row["revenue_in_window"],
        )
        assert row["reason"]
    assert all(reachable(expected[account_id]["account"]) for account_id in listed)
    # the purchase models moved someone: buyers slipping away are listed at_risk
    assert any(campaign == "at_risk" for campaign, _ in customers.values())
    distributors = set(listed) - set(customers)
    assert distributors, "distributor coaching files are written too"
    opted_out = {a for a, f in expected.items() if f["account"]["email_opt_in"] == "false"}
    terminated = {a for a, f in expected.items() if f["account"]["status"] == "terminated"}
    assert opted_out and terminated and not (opted_out | terminated) & set(listed)


def test_each_file_puts_the_people_worth_most_first_with_their_predictions(night_run):
    """Every row carries the person's predictions of the night (customer_predictions), and
    each file is ordered by predicted value, highest first, people without one last."""
    folder = night_run["data"] / "outreach" / NIGHT.isoformat()
    with duckdb.connect(str(night_run["data"] / "warehouse.duckdb"), read_only=True) as db:
        predicted = {
            account_id: (p_alive, next_date, value)
            for account_id, p_alive, next_date, value in db.execute(
                "select account_id, p_alive, expected_next_purchase_date, predicted_value_365d "
                "from marts.customer_predictions where as_of_date = ?",
                [NIGHT],
            ).fetchall()
        }
    assert any(value is not None for _, _, value in predicted.values()), "no model tonight"
    with_value = 0
    for path in folder.rglob("*.csv"):
        rows = list(_read(path))
        # highest value first, then the people without one; ties by account id
        order = [(-float(row["predicted_value_365d"] or "-inf"), row["account_id"]) for row in rows]
        assert order == sorted(order), path.name
        for row in rows:
            p_alive, next_date, value = predicted.get(row["account_id"], (None, None, None))
            if p_alive is None:
                assert row["p_alive"] == row["expected_next_purchase_date"] == ""
            if value is None:
                assert row["predicted_value_365d"] == ""
            else:
                with_value += 1
                assert float(row["p_alive"]) == pytest.approx(p_alive, rel=1e-12)
                assert row["expected_next_purchase_date"] == next_date.isoformat()
                assert float(row["predicted_value_365d"]) == pytest.approx(value, rel=1e-12)
    assert with_value > 0


def test_manifest_names_every_file_with_rows_and_checksums(night_run):
    folder = night_run["data"] / "outreach" / NIGHT.isoformat()
    manifest = json.loads((folder / "manifest.json").read_text())
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*.csv")}
    assert {entry["path"] for entry in manifest["files"]} == files
    assert (folder / "_SUCCESS").exists()
    assert manifest["export_date"] == NIGHT.isoformat()
    assert manifest["run_id"].startswith("manual__")


def test_rerunning_the_night_replaces_it_with_identical_results(night_run):
    outreach = night_run["data"] / "outreach" / NIGHT.isoformat()
    again = {p.relative_to(outreach): p.read_bytes() for p in outreach.rglob("*.csv")}
    assert again == night_run["first_files"]
    with duckdb.connect(str(night_run["data"] / "warehouse.duckdb"), read_only=True) as con:
        assert (
            con.execute("select * from marts.segment_summary order by all").fetchall()
            == night_run["first_summary"]
        )
        assert con.execute("select count(*) from raw.accounts").fetchone()[0] == len(
            night_run["expected"]["per_account"]
        )


def test_the_published_warehouse_keeps_no_table_a_night_rebuilds_whole(night_run):
    """The intermediate tables rebuilt every night went to the night's scratch database,
    which is gone once the build passed, and no staging table is left behind; every view
    a reader opens still resolves."""
    data = night_run["data"]
    assert not list(data.glob("*.scratch*")) and not list(data.glob(".*.scratch*"))
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as connection:
        kept = connection.execute(
            "select table_name from duckdb_tables() where schema_name = 'intermediate' order by all"
        ).fetchall()
        # the incremental ones a later night builds on, and the nights they were built for
        assert kept == [
            ("incremental_nights_built",),
            ("int_account_first_baskets",),
            ("int_account_products",),
            ("int_accounts_history",),
            ("int_order_lines_resolved",),
            ("int_orders_deduplicated",),
            ("int_purchases_to_date",),
            ("int_transactions_summarised_to_date",),
        ]
        # the re-run built purchase_model_fits incrementally: dbt-duckdb's staging table
        # of a Python model is dropped, not kept one a night
        assert (
            connection.execute(
                "select table_name from duckdb_tables() where table_name like '%dbt_tmp%'"
            ).fetchall()
            == []
        )
        views = connection.execute(
            "select schema_name, view_name from duckdb_views() where not internal "
            "and schema_name in ('staging', 'intermediate', 'marts', 'pump')"
        ).fetchall()
        assert len(views) > 10
        for schema, view in views:
            connection.execute(f'select * from "{schema}"."{view}" limit 1').fetchall()


def test_every_row_read_is_loaded_or_quarantined(night_run):
    with duckdb.connect(str(night_run["data"] / "warehouse.duckdb"), read_only=True) as con:
        audit = con.execute(
            "select file_name, rows_read, rows_loaded, rows_quarantined "
            "from ops.load_audit where export_date = ?",
            [NIGHT],
        ).fetchall()
    assert {row[0] for row in audit} == {"accounts.csv", "orders.csv", "order_lines.csv"}
    for _, read, loaded, quarantined in audit:
        assert read == loaded + quarantined and read > 0


def test_the_run_prints_where_things_are_and_the_segment_table(night_run):
    out = night_run["stdout"]
    assert "warehouse (DuckDB, schema marts)" in out
    assert "second_order/second_order__1.csv" in out
    assert re.search(r"^\s+lapsed\s+[\d,]+", out, re.MULTILINE)


def test_a_night_without_export_fails_naming_the_folder(night_run):
    result = night_run["run"](date(2025, 11, 21))
    assert result.returncode == 1
    assert "FAILED" in result.stderr
    assert "landing/2025-11-21 does not exist" in result.stderr
    # the failure callback names the night, the task and the reason in the task log
    log = night_run["data"] / "runs" / "2025-11-21" / "airflow.log"
    assert "night 2025-11-21, task next_steps_nightly.find_export failed" in log.read_text()
    assert not (night_run["data"] / "outreach" / "2025-11-21").exists()


def test_logs_never_print_an_email_address(night_run):
    export = night_run["data"] / "landing" / NIGHT.isoformat()
    emails = {row["email"].strip() for row in _read(export / "accounts.csv") if "@" in row["email"]}
    run_folder = night_run["data"] / "runs" / NIGHT.isoformat()
    logs = [run_folder / "airflow.log", run_folder / "dbt" / "dbt.log"]
    logs += list((run_folder / "validation").glob("*.json"))
    assert len(emails) > 100
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        assert not [email for email in emails if email in text], f"{log.name} prints e-mails"
    # ...while the task logs do report in counts
    assert re.search(
        r"orders\.csv: \d+ read, \d+ loaded, 0 quarantined",
        (run_folder / "airflow.log").read_text(),
    )


def test_the_night_publishes_its_assets_with_the_night_it_built(night_run):
    import sqlite3

    with sqlite3.connect(night_run["airflow_home"] / "airflow.db") as metadata:
        events = metadata.execute(
            "select asset.name, asset_event.source_task_id, asset_event.extra "
            "from asset_event join asset on asset.id = asset_event.asset_id "
            "order by asset_event.id"
        ).fetchall()
    manifest = json.loads(
        (night_run["data"] / "outreach" / NIGHT.isoformat() / "manifest.json").read_text()
    )
    # two runs of the night, each publishing the marts and the outreach folder
    # (in no particular order within a task)
    assert sorted((name, task) for name, task, _ in events) == [
        ("next_steps_marts", "publish_night"),
        ("next_steps_marts", "publish_night"),
        ("next_steps_outreach_files", "publish_night"),
        ("next_steps_outreach_files", "publish_night"),
    ]
    outreach = json.loads(
        next(e for e in reversed(events) if e[0] == "next_steps_outreach_files")[2]
    )
    assert outreach["night"] == NIGHT.isoformat()
    assert outreach["republished"] == []  # no later night built
    assert (outreach["files"], outreach["rows"]) == (
        len(manifest["files"]),
        manifest["total_rows"],
    )


def test_the_report_beside_the_files_shows_the_warehouses_numbers(night_run, browser):
    from selenium.webdriver.common.by import By

    folder = night_run["data"] / "outreach" / NIGHT.isoformat()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["report"]["path"] == "report.html"
    browser.get((folder / "report.html").as_uri())

    def values(selector: str, attribute: str = "data-label") -> dict:
        return {
            element.get_attribute(attribute): element.get_attribute("data-value")
            for element in browser.find_elements(By.CSS_SELECTOR, selector)
        }

    with duckdb.connect(str(night_run["data"] / "warehouse.duckdb"), read_only=True) as con:

        def query(sql: str) -> list[tuple]:
            return con.execute(sql, [NIGHT]).fetchall()

        summary = query(
            "select segment, accounts, orders, revenue from marts.segment_summary "
            "where as_of_date = ?"
        )
        stages = dict(
            query(
                "select stage, count(*) from marts.journey_stages where as_of_date = ? group by 1"
            )
        )
        listed = dict(
            query(
                "select campaign, count(*) from marts.outreach_log where as_of_date = ? "
                "and outcome = 'listed' group by 1"
            )
        )
        left_out = dict(
            query(
                "select reason, count(*) from marts.suppression_audit where as_of_date = ? "
                "group by 1"
            )
        )
        audit = query(
            "select file_name, rows_read, rows_loaded, rows_quarantined from ops.load_audit "
            "where export_date = ?"
        )
    for segment, accounts, orders, revenue in summary:
        row = browser.find_element(By.CSS_SELECTOR, f'tr[data-segment="{segment}"]')
        cells = [td.get_attribute("data-value") for td in row.find_elements(By.TAG_NAME, "td")]
        assert [int(cells[1]), int(cells[2]), Decimal(cells[3])] == [accounts, orders, revenue]
    assert values("#chart-segment-accounts rect") == {s: str(a) for s, a, _, _ in summary}
    assert {k: int(v) for k, v in values("#chart-funnel rect").items() if int(v)} == stages
    assert {
        k: int(v) for k, v in values('#chart-campaigns rect[data-outcome="listed"]').items()
    } == listed
    table = {
        tr.find_elements(By.TAG_NAME, "td")[0].text: int(
            tr.find_elements(By.TAG_NAME, "td")[1].get_attribute("data-value")
        )
        for tr in browser.find_elements(By.CSS_SELECTOR, "#left-out tbody tr")
    }
    assert table == left_out
    for file_name, read, loaded, quarantined in audit:
        row = next(
            tr
            for tr in browser.find_elements(By.CSS_SELECTOR, "#data-quality tbody tr")
            if tr.find_element(By.TAG_NAME, "td").text == file_name
        )
        cells = [td.get_attribute("data-value") for td in row.find_elements(By.TAG_NAME, "td")]
        assert [int(c) for c in cells[1:4]] == [read, loaded, quarantined]
    steps = browser.find_element(By.ID, "timings").text
    # the report is written before the night is published: its steps up to the files
    for step in ("validate_export", "load_warehouse", "build_models"):
        assert step in steps


def test_make_docs_builds_both_sites_with_every_column_described_and_no_personal_data(
    night_run, tmp_path, monkeypatch
):
    from next_steps.config import Settings
    from next_steps.publish.docs import build_docs

    monkeypatch.setenv("NEXT_STEPS_DATA_DIR", str(night_run["data"]))
    sites = build_docs(Settings.from_env(), tmp_path / "docs")
    dbt_index = sites["dbt"].read_text(encoding="utf-8")
    for name in ("exposure.next_steps.night_report", "exposure.next_steps.marketing_email_tool"):
        assert name in dbt_index
    # every column of every model, as the warehouse has it, has a description
    manifest = json.loads((tmp_path / "docs/dbt/manifest.json").read_text())
    catalog = json.loads((tmp_path / "docs/dbt/catalog.json").read_text())
    models = [uid for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"]
    assert any(".segment_summary" in uid for uid in catalog["nodes"])
    undescribed = [
        f"{uid}.{column}"
        for uid in models
        for column in catalog["nodes"][uid]["columns"]
        if not manifest["nodes"][uid]["description"].strip()
        or not manifest["nodes"][uid]["columns"].get(column, {}).get("description", "").strip()
    ]
    assert undescribed == []
    gx_site = sites["great_expectations"].parent
    pages = {p.name for p in gx_site.rglob("*.html")}
    assert {"accounts.csv.html", "orders.csv.html", "order_lines.csv.html"} <= pages
    emails = {
        row["email"]
        for row in _read(night_run["data"] / "landing" / NIGHT.isoformat() / "accounts.csv")
        if row["email"]
    }
    text = "".join(p.read_text(errors="replace") for p in gx_site.rglob("*.html"))
    assert not [email for email in emails if email in text]
