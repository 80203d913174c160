"""The nightly export contract of ``shared/DESIGN.md``: files, columns and their types.

Two rule books, each rule in one of them:

- Row rules (enums, non-negative amounts, unique keys, formats) are the Great
  Expectations suites in ``expectations/<file>.json``; :func:`value_set` reads an enum
  from there for code that needs one (the sample generator).
- Rules that need the night or the warehouse (no date after the export date, a key
  the warehouse must know) are declared here, per file (``not_after_export_date``,
  ``known_keys``); :mod:`next_steps.ingest.load` turns them into SQL.

This module also says which files and columns an export has and the warehouse type each
column is loaded as.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from next_steps.config import PROJECT_ROOT

SUITES_DIR = PROJECT_ROOT / "expectations"

SUCCESS_MARKER = "_SUCCESS"

#: Contract type -> DuckDB type of the loaded column.
DUCKDB_TYPES = {
    "text": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
    "decimal": "DECIMAL(18,4)",
    "integer": "INTEGER",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]


@dataclass(frozen=True)
class KnownKey:
    """A column whose value, when given, must be a key the warehouse already knows.

    ``known_in`` is ``relation.column`` of a relation that
    :func:`next_steps.ingest.load.prepare_reference_tables` makes for the night;
    ``reason`` is what a row that breaks the rule gets (``{reporting_currency}`` is
    filled in). A ``hold`` row is not rejected: it waits in ``raw.held_<file>``."""

    column: str
    known_in: str
    reason: str
    hold: bool = False


@dataclass(frozen=True)
class ExportFileSpec:
    """One file of the export, and the rules on it that need the warehouse."""

    name: str
    columns: tuple[Column, ...]
    required: bool
    rows_required: bool
    not_after_export_date: tuple[str, ...] = ()
    known_keys: tuple[KnownKey, ...] = ()
    #: a full snapshot every night: ``raw`` keeps only the night loaded last, and the
    #: dbt models keep its history as changes (``int_accounts_history``)
    is_snapshot: bool = False

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def suite_name(self) -> str:
        return self.name

    @property
    def held_reason(self) -> str | None:
        """The reason of this file's rows that are held rather than rejected, if any."""
        held = [key.reason for key in self.known_keys if key.hold]
        return held[0] if held else None


def _columns(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, type_) for name, type_ in pairs)


ACCOUNTS = ExportFileSpec(
    name="accounts",
    columns=_columns(
        ("account_id", "text"),
        ("account_type", "text"),
        ("status", "text"),
        ("enrolled_at", "date"),
        ("sponsor_id", "text"),
        ("first_name", "text"),
        ("email", "text"),
        ("country", "text"),
        ("language", "text"),
        ("email_opt_in", "boolean"),
        ("autoship_active", "boolean"),
        ("rank", "integer"),
    ),
    required=True,
    rows_required=True,
    not_after_export_date=("enrolled_at",),
    is_snapshot=True,
)

ORDERS = ExportFileSpec(
    name="orders",
    columns=_columns(
        ("order_id", "text"),
        ("account_id", "text"),
        ("order_date", "timestamp"),
        ("order_type", "text"),
        ("status", "text"),
        ("currency", "text"),
        ("order_total", "decimal"),
        ("volume", "decimal"),
        ("updated_at", "timestamp"),
    ),
    required=True,
    # A quiet night can have no changed orders; the first export holds the history.
    rows_required=False,
    not_after_export_date=("order_date", "updated_at"),
    known_keys=(
        KnownKey(
            "currency",
            known_in="rates.currency",
            reason="currency: no rate to {reporting_currency} in currency_rates",
        ),
        KnownKey(
            "account_id",
            known_in="known_accounts.account_id",
            reason=(
                "account_id: not in the accounts snapshot (yet); the order is held and "
                "loads on the first night whose accounts snapshot has the account"
            ),
            hold=True,
        ),
    ),
)

ORDER_LINES = ExportFileSpec(
    name="order_lines",
    columns=_columns(
        ("order_id", "text"),
        ("line_number", "integer"),
        ("sku", "text"),
        ("quantity", "integer"),
        ("unit_price", "decimal"),
    ),
    required=False,
    rows_required=False,
    known_keys=(
        KnownKey(
            "order_id",
            known_in="known_orders.order_id",
            reason="order_id: not an order of this or an earlier export",
        ),
    ),
)

#: In load order: accounts first, so orders can be checked against them.
EXPORT_FILES: tuple[ExportFileSpec, ...] = (ACCOUNTS, ORDERS, ORDER_LINES)


def header(spec: ExportFileSpec) -> bytes:
    """The header line of ``spec``'s CSV file, as the export writes it."""
    return (",".join(spec.column_names) + "\n").encode()


def load_suite_json(expectations_dir: Path, suite_name: str) -> dict[str, Any]:
    """A Great Expectations suite of ``expectations_dir`` as its JSON."""
    path = expectations_dir / f"{suite_name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"Expectation suite {path} does not exist.")
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def value_set(spec: ExportFileSpec, column: str, suites_dir: Path = SUITES_DIR) -> tuple[str, ...]:
    """The values ``column`` of ``spec`` may take, from its suite's
    ``expect_column_values_to_be_in_set`` (in the suite's order)."""
    suite = load_suite_json(suites_dir, spec.suite_name)
    (values,) = [
        expectation["kwargs"]["value_set"]
        for expectation in suite["expectations"]
        if expectation["type"] == "expect_column_values_to_be_in_set"
        and expectation["kwargs"]["column"] == column
    ]
    return tuple(values)
