"""The nightly export contract of ``shared/DESIGN.md``: files, columns and their types.

Row rules (enums, non-negative amounts, unique keys, formats) live in the Great
Expectations suites in ``expectations/<file>.json``; this module says which files and
columns an export has and the warehouse type each column is loaded as.
"""

from __future__ import annotations

from dataclasses import dataclass

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
class ExportFileSpec:
    """One file of the export."""

    name: str
    columns: tuple[Column, ...]
    required: bool
    rows_required: bool

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def suite_name(self) -> str:
        return self.name


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
)

#: In load order: accounts first, so orders can be checked against them.
EXPORT_FILES: tuple[ExportFileSpec, ...] = (ACCOUNTS, ORDERS, ORDER_LINES)
