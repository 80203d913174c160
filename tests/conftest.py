"""Shared fixtures and helpers: a private data folder per test, small hand-written
exports, a warehouse that dbt builds in-process, and the outreach holdout bucket."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

import duckdb
import pytest

from next_steps.config import Settings
from next_steps.ingest.contract import ACCOUNTS, ORDER_LINES, ORDERS, SUCCESS_MARKER

ACCOUNT_DEFAULTS = {
    "account_type": "retail",
    "status": "active",
    "enrolled_at": "2024-01-15",
    "sponsor_id": "",
    "first_name": "Ana",
    "email": "ana@example.com",
    "country": "PL",
    "language": "pl",
    "email_opt_in": "true",
    "autoship_active": "false",
    "rank": "",
}
ORDER_DEFAULTS = {
    "order_type": "standard",
    "status": "completed",
    "currency": "USD",
    "order_total": "50.00",
    "volume": "40.00",
}


def account(account_id: str, **values: str) -> dict[str, str]:
    return {"account_id": account_id, **ACCOUNT_DEFAULTS, **values}


def order(order_id: str, account_id: str, order_date: str, **values: str) -> dict[str, str]:
    row = {
        "order_id": order_id,
        "account_id": account_id,
        "order_date": order_date,
        **ORDER_DEFAULTS,
        "updated_at": order_date,
    }
    row.update(values)
    return row


def write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_export(
    folder: Path, accounts: list[dict], orders: list[dict], order_lines: list[dict] | None = None
) -> Path:
    """Write an export folder in the contract, ``_SUCCESS`` last."""
    write_csv(folder / "accounts.csv", ACCOUNTS.column_names, accounts)
    write_csv(folder / "orders.csv", ORDERS.column_names, orders)
    if order_lines is not None:
        write_csv(folder / "order_lines.csv", ORDER_LINES.column_names, order_lines)
    (folder / SUCCESS_MARKER).touch()
    return folder


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose data folder is private to the test."""
    monkeypatch.setenv("NEXT_STEPS_DATA_DIR", str(tmp_path / "data"))
    for name in (
        "NEXT_STEPS_LANDING_DIR",
        "NEXT_STEPS_WAREHOUSE",
        "NEXT_STEPS_OUTREACH_DIR",
        "NEXT_STEPS_QUARANTINE_DIR",
        "NEXT_STEPS_RUNS_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env()


def holdout_bucket(account_id: str, campaign: str) -> int:
    """The macro ``stable_bucket`` in Python: first 32 bits of the MD5, modulo 100."""
    return int(hashlib.md5(f"{account_id}|{campaign}".encode()).hexdigest()[:8], 16) % 100


DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


class DbtWarehouse:
    """A temporary warehouse plus the paths dbt writes to, in pytest's tmp dirs.

    ``build`` runs what the nightly build runs: models, seeds and data tests, without
    dbt's unit tests (``next_steps.build.dbt_build.dbt_args``); ``unit_tests`` runs those.
    """

    def __init__(self, root: Path, project_dir: Path = DBT_PROJECT_DIR) -> None:
        self.path = root / "warehouse.duckdb"
        self.target_path = root / "target"
        self.log_path = root / "logs"
        self.project_dir = project_dir

    def dbt(self, *args: str, as_of_date: str | None = None):
        """Invoke dbt in-process; returns dbt's dbtRunnerResult."""
        from dbt.cli.main import dbtRunner

        from next_steps.build.dbt_build import release_connections

        cli_args = [
            *args,
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.project_dir),
            "--target-path",
            str(self.target_path),
            "--log-path",
            str(self.log_path),
        ]
        if as_of_date is not None:
            cli_args += ["--vars", json.dumps({"as_of_date": as_of_date})]
        try:
            return dbtRunner().invoke(cli_args)
        finally:
            release_connections()

    def build(self, as_of_date: str) -> dict[str, str]:
        """``dbt build`` for one night, as the nightly build runs it (no unit tests);
        fails the test naming every failed node. Returns the status of every node."""
        result = self.dbt("build", "--exclude-resource-type", "unit_test", as_of_date=as_of_date)
        assert result.success, f"dbt build for {as_of_date} failed: {_dbt_failures(result)}"
        return {r.node.unique_id: str(r.status) for r in result.result}

    def unit_tests(self, as_of_date: str, *select: str):
        """``dbt test --select test_type:unit`` (narrowed by ``select``) on this warehouse,
        which must hold the models already (unit tests read their inputs' columns from
        it); returns dbt's dbtRunnerResult."""
        selector = ",".join(["test_type:unit", *select])
        return self.dbt("test", "--select", selector, as_of_date=as_of_date)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.path))
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


def insert_raw(connection, table: str, night: str, rows) -> None:
    """Insert rows into ``raw.<table>`` for export night ``night`` as the loader does:
    ``source_line`` counts from 2 (line 1 is the header), the columns in the contract's
    order after ``export_date`` and ``source_line``."""
    for line, row in enumerate(rows, start=2):
        marks = ", ".join("?" * (len(row) + 2))
        connection.execute(f"insert into raw.{table} values ({marks})", [night, line, *row])


def _dbt_failures(result) -> str:
    if result.exception is not None:
        return repr(result.exception)
    failed = [
        f"{r.node.unique_id}: {r.status}: {r.message}"
        for r in (result.result or [])
        # nodes skipped because of a failure upstream are left out
        if str(r.status) not in {"success", "pass", "no-op", "skipped"}
    ]
    return "; ".join(failed) or "no failing node reported"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with a ``slow`` test run first (in their usual order), the quick files after:
    ``make test`` hands whole files to two workers (``-n 2 --dist loadfile``), and the
    suite ends soonest when the long files start first and the short ones fill in."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Debian's headless Chromium through its chromedriver (``make browser`` installs
    both; ``make test`` does it first).  No network: the report must need none."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    assert not missing, f"{', '.join(missing)} missing: run `make browser` (Debian packages)"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,2000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def dags_test_env(data_dir: Path, airflow_home: Path) -> dict[str, str]:
    """The environment of ``make run`` (``airflow dags test``, SQLite metadata) for a
    private data folder and Airflow home; none of the caller's Airflow or pipeline
    settings leak in."""
    root = Path(__file__).resolve().parents[1]
    return {
        **{
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW_", "NEXT_STEPS_"))
        },
        "NEXT_STEPS_DATA_DIR": str(data_dir),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "GX_ANALYTICS_ENABLED": "false",
    }
