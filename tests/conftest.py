"""Shared fixtures: a private data folder per test and small hand-written exports."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from next_steps.config import Settings
from next_steps.contract import ACCOUNTS, ORDER_LINES, ORDERS, SUCCESS_MARKER

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
