"""A corpus of damaged exports, one per problem a commerce platform sends us.

Each case starts from the same valid export (300 accounts, 600 orders), damages it in one
way and states what must happen: the row is quarantined with a reason naming the column
and the rule (the rest loads, and the counts add up), the row is loaded and flagged, or
the night fails with a message that names the file and the problem.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from next_steps import nightly
from next_steps.errors import ExportFileError, ExportNotReady
from next_steps.ingest.contract import ACCOUNTS, ORDERS
from next_steps.ingest.load import UNKNOWN_SPONSOR_FLAG, formula_like_flag

from conftest import account, order, write_export

HELD_REASON = ORDERS.held_reason

NIGHT = date(2025, 6, 30)


def base_export() -> tuple[list[dict], list[dict]]:
    accounts = [
        account(
            f"A{i:03d}",
            sponsor_id=f"A{i - 1:03d}" if i > 1 else "",
            account_type="distributor" if i % 5 == 0 else "retail",
        )
        for i in range(1, 301)
    ]
    orders = [
        order(f"O{i:03d}", f"A{(i % 300) + 1:03d}", f"2025-{(i % 5) + 2:02d}-10T10:00:00Z")
        for i in range(1, 601)
    ]
    return accounts, orders


def lines_of(folder: Path, name: str) -> list[str]:
    return (folder / f"{name}.csv").read_text(encoding="utf-8").splitlines(keepends=True)


def set_cell(name: str, line: int, column: str, value: str) -> Callable[[Path], None]:
    """Damage: one cell of ``name``.csv at file line ``line`` gets ``value``."""
    columns = (ACCOUNTS if name == "accounts" else ORDERS).column_names

    def damage(folder: Path) -> None:
        lines = lines_of(folder, name)
        fields = lines[line - 1].rstrip("\n").split(",")
        fields[columns.index(column)] = value
        lines[line - 1] = ",".join(fields) + "\n"
        (folder / f"{name}.csv").write_text("".join(lines), encoding="utf-8")

    return damage


def edit_text(name: str, edit: Callable[[str], str]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / f"{name}.csv"
        path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")

    return damage


def edit_line(name: str, line: int, edit: Callable[[str], str]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        lines = lines_of(folder, name)
        lines[line - 1] = edit(lines[line - 1].rstrip("\n")) + "\n"
        (folder / f"{name}.csv").write_text("".join(lines), encoding="utf-8")

    return damage


def remove(relative: str) -> Callable[[Path], None]:
    return lambda folder: (folder / relative).unlink()


def not_utf8(folder: Path) -> None:
    path = folder / "accounts.csv"
    path.write_bytes(path.read_bytes().replace(b"Ana", "Zoë".encode("cp1252"), 1))


def truncate(folder: Path) -> None:
    """Cut in the middle of the last line's last value (a transfer that stopped short).

    A cut exactly at a line end cannot be told from a smaller export: the contract has
    no row count to compare with."""
    path = folder / "orders.csv"
    path.write_bytes(path.read_bytes()[:-10])


def gzip_renamed_only(folder: Path) -> None:
    """A .csv.gz that holds plain text: not gzip, so not readable."""
    path = folder / "orders.csv"
    path.rename(folder / "orders.csv.gz")


def truncated_gzip(folder: Path) -> None:
    data = (folder / "orders.csv").read_bytes()
    (folder / "orders.csv").unlink()
    (folder / "orders.csv.gz").write_bytes(gzip.compress(data)[:-200])


@dataclass(frozen=True)
class Quarantined:
    file: str
    line: int
    reason: str


@dataclass(frozen=True)
class Flagged:
    file: str
    line: int
    flag: str


@dataclass(frozen=True)
class Fails:
    error: type[Exception]
    message: str


CASES: dict[str, tuple[Callable[[Path], None], object]] = {
    "number that does not parse": (
        set_cell("orders", 5, "order_total", "12.5O"),
        Quarantined("orders.csv", 5, "order_total: must be a decimal number"),
    ),
    "date that does not parse": (
        set_cell("accounts", 7, "enrolled_at", "2025/01/07"),
        Quarantined("accounts.csv", 7, "enrolled_at: must be a date YYYY-MM-DD"),
    ),
    "date that does not exist": (
        set_cell("accounts", 8, "enrolled_at", "2025-02-30"),
        Quarantined("accounts.csv", 8, "enrolled_at: must be a date YYYY-MM-DD"),
    ),
    "timestamp that does not parse": (
        set_cell("orders", 9, "order_date", "yesterday"),
        Quarantined("orders.csv", 9, "order_date: must be an ISO 8601 timestamp"),
    ),
    "timestamp out of range": (
        set_cell("orders", 10, "updated_at", "2025-06-31T10:00:00Z"),
        Quarantined("orders.csv", 10, "updated_at: must be a valid timestamp"),
    ),
    "boolean that does not parse": (
        set_cell("accounts", 11, "email_opt_in", "yes"),
        Quarantined("accounts.csv", 11, "email_opt_in: must be one of true, false"),
    ),
    "negative amount": (
        set_cell("orders", 12, "volume", "-3.00"),
        Quarantined("orders.csv", 12, "volume: must be >= 0"),
    ),
    "unknown enum value": (
        set_cell("orders", 13, "status", "shipped"),
        Quarantined("orders.csv", 13, "status: must be one of completed, cancelled, returned"),
    ),
    "empty key": (
        set_cell("orders", 14, "order_id", ""),
        Quarantined("orders.csv", 14, "order_id: must not be empty"),
    ),
    "date in the future of the export": (
        set_cell("orders", 15, "order_date", "2025-07-02T10:00:00Z"),
        Quarantined("orders.csv", 15, "order_date: must not be after the export date 2025-06-30"),
    ),
    "order whose account is in no account file yet": (
        set_cell("orders", 16, "account_id", "A999"),
        Quarantined("orders.csv", 16, HELD_REASON),
    ),
    "currency with no rate": (
        set_cell("orders", 17, "currency", "XAU"),
        Quarantined("orders.csv", 17, "currency: no rate to USD in currency_rates"),
    ),
    "line with too many fields": (
        edit_line("orders", 18, lambda text: text + ",surplus"),
        Quarantined("orders.csv", 18, "row: has 10 fields, the header has 9"),
    ),
    "line with too few fields": (
        edit_line("orders", 19, lambda text: text.rsplit(",", 1)[0]),
        Quarantined("orders.csv", 19, "row: has 8 fields, the header has 9"),
    ),
    "sponsor that does not exist": (
        set_cell("accounts", 20, "sponsor_id", "A999"),
        Flagged("accounts.csv", 20, UNKNOWN_SPONSOR_FLAG),
    ),
    "first name a spreadsheet would read as a formula": (
        set_cell("accounts", 21, "first_name", "@SUM(1)"),
        Flagged("accounts.csv", 21, formula_like_flag("first_name")),
    ),
    "no _SUCCESS": (
        remove("_SUCCESS"),
        Fails(ExportNotReady, r"landing/2025-06-30 is not complete: it has no _SUCCESS"),
    ),
    "required file missing": (
        remove("orders.csv"),
        Fails(ExportFileError, r"landing/2025-06-30 has no orders\.csv \(required file\)"),
    ),
    "required column missing": (
        edit_text(
            "orders",
            lambda t: "\n".join(",".join(r.split(",")[:-1]) for r in t.splitlines()) + "\n",
        ),
        Fails(
            ExportFileError,
            r"orders\.csv has the wrong columns: missing column\(s\) "
            r"updated_at",
        ),
    ),
    "column renamed": (
        edit_text("accounts", lambda t: t.replace("email_opt_in", "opt_in", 1)),
        Fails(
            ExportFileError,
            r"accounts\.csv has the wrong columns: missing column\(s\) "
            r"email_opt_in; unexpected column\(s\) opt_in",
        ),
    ),
    "not UTF-8": (
        not_utf8,
        Fails(ExportFileError, r"accounts\.csv is not UTF-8: undecodable byte 0xeb on line 2"),
    ),
    "accounts file with no rows": (
        edit_text("accounts", lambda t: t.splitlines(keepends=True)[0]),
        Fails(ExportFileError, r"accounts\.csv has a header but no rows"),
    ),
    "truncated file": (
        truncate,
        Quarantined("orders.csv", 601, "updated_at: must be an ISO 8601 timestamp"),
    ),
    "gzip name on a plain file": (
        gzip_renamed_only,
        Fails(ExportFileError, r"orders\.csv\.gz cannot be read: not a gzip file"),
    ),
    "truncated gzip file": (
        truncated_gzip,
        Fails(
            ExportFileError,
            r"orders\.csv\.gz cannot be read: not a gzip file, or a "
            r"truncated one",
        ),
    ),
    "quarantine share above the limit": (
        lambda folder: [
            set_cell("orders", line, "status", "lost")(folder) for line in range(2, 10)
        ],
        Fails(
            ExportFileError,
            r"orders\.csv: 8 of 600 rows rejected \(1\.3%\), above the "
            r"1\.0% limit: the export is probably broken",
        ),
    ),
    "duplicate account id": (
        set_cell("accounts", 22, "account_id", "A020"),
        Quarantined(
            "accounts.csv",
            22,
            "account_id: must be unique in the file (this id appears on more than one row)",
        ),
    ),
}


def run_night(settings) -> dict:
    nightly.find_export(NIGHT, settings)
    nightly.validate_export(NIGHT, settings)
    return nightly.load_export(NIGHT, settings)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_damaged_export(case: str, settings) -> None:
    damage, expected = CASES[case]
    accounts, orders = base_export()
    folder = write_export(settings.export_folder(NIGHT), accounts, orders)
    damage(folder)
    if isinstance(expected, Fails):
        with pytest.raises(expected.error, match=expected.message):
            run_night(settings)
        assert not settings.warehouse.exists(), "a failed night published a warehouse"
        return
    loaded = run_night(settings)
    for counts in loaded.values():
        assert counts["rows_read"] == counts["rows_loaded"] + counts["rows_quarantined"]
    with duckdb.connect(str(settings.working_warehouse), read_only=True) as connection:
        if isinstance(expected, Quarantined):
            rows = connection.execute(
                "select line_number, reason from ops.quarantined_rows where file_name = ?",
                [expected.file],
            ).fetchall()
            assert (expected.line, expected.reason) in rows
            table = expected.file.split(".")[0]
            loaded_lines = {
                line
                for (line,) in connection.execute(f"select source_line from raw.{table}").fetchall()
            }
            assert expected.line not in loaded_lines
        else:
            rows = connection.execute(
                "select line_number, flag from ops.flagged_rows where file_name = ?",
                [expected.file],
            ).fetchall()
            assert rows == [(expected.line, expected.flag)]
            assert connection.execute(
                "select count(*) from raw.accounts where source_line = ?", [expected.line]
            ).fetchone() == (1,)
