"""Finding a night's export and reading its files (file-level problems fail clearly)."""

from __future__ import annotations

import gzip
from datetime import date

import pytest

from next_steps.errors import ExportFileError, ExportNotReady
from next_steps.ingest.contract import ACCOUNTS, ORDERS
from next_steps.ingest.exports import locate_export, read_export_file

from conftest import account, order, write_export

NIGHT = date(2025, 6, 30)


def test_missing_export_folder_fails_naming_the_folder(tmp_path):
    with pytest.raises(ExportNotReady, match=r"landing/2025-06-30 does not exist"):
        locate_export(tmp_path / "landing", NIGHT)


def test_export_without_success_marker_is_not_ready(tmp_path):
    folder = write_export(tmp_path / "landing" / "2025-06-30", [account("A1")], [])
    (folder / "_SUCCESS").unlink()
    with pytest.raises(ExportNotReady, match=r"2025-06-30 is not complete: it has no _SUCCESS"):
        locate_export(tmp_path / "landing", NIGHT)


def test_missing_required_file_fails_naming_it(tmp_path):
    folder = write_export(tmp_path / "landing" / "2025-06-30", [account("A1")], [])
    (folder / "orders.csv").unlink()
    with pytest.raises(ExportFileError, match=r"has no orders.csv \(required file\)"):
        locate_export(tmp_path / "landing", NIGHT)


def test_optional_order_lines_may_be_absent(tmp_path):
    write_export(tmp_path / "landing" / "2025-06-30", [account("A1")], [])
    export = locate_export(tmp_path / "landing", NIGHT)
    assert sorted(export.files) == ["accounts", "orders"]


def test_gzip_file_is_found_and_read(tmp_path):
    folder = write_export(tmp_path / "landing" / "2025-06-30", [account("A1"), account("A2")], [])
    data = (folder / "accounts.csv").read_bytes()
    (folder / "accounts.csv").unlink()
    (folder / "accounts.csv.gz").write_bytes(gzip.compress(data))
    export = locate_export(tmp_path / "landing", NIGHT)
    parsed = read_export_file(export.files["accounts"], ACCOUNTS)
    assert parsed.values["account_id"] == ["A1", "A2"]
    assert parsed.lines == [2, 3]


def test_renamed_column_fails_naming_file_and_columns(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,account,order_date,order_type,status,currency,order_total,volume,updated_at\n",
        encoding="utf-8",
    )
    with pytest.raises(ExportFileError) as error:
        read_export_file(path, ORDERS)
    message = str(error.value)
    assert "orders.csv has the wrong columns" in message
    assert "missing column(s) account_id" in message
    assert "unexpected column(s) account" in message


def test_columns_in_another_order_are_read_by_name(tmp_path):
    path = tmp_path / "accounts.csv"
    names = list(reversed(ACCOUNTS.column_names))
    row = account("A9")
    path.write_text(
        ",".join(names) + "\n" + ",".join(row[n] for n in names) + "\n", encoding="utf-8"
    )
    parsed = read_export_file(path, ACCOUNTS)
    assert parsed.values["account_id"] == ["A9"]
    assert parsed.values["email"] == ["ana@example.com"]


def test_file_that_is_not_utf8_fails_with_the_line(tmp_path):
    folder = write_export(tmp_path / "x", [account("A1"), account("A2")], [])
    content = (folder / "accounts.csv").read_bytes().replace(b"Ana", "Zoë".encode("latin-1"), 2)
    (folder / "accounts.csv").write_bytes(content)
    with pytest.raises(
        ExportFileError, match=r"accounts.csv is not UTF-8: undecodable byte 0xeb on line 2 "
    ):
        read_export_file(folder / "accounts.csv", ACCOUNTS)


def test_accounts_file_without_rows_fails(tmp_path):
    folder = write_export(tmp_path / "x", [], [])
    with pytest.raises(ExportFileError, match=r"accounts.csv has a header but no rows"):
        read_export_file(folder / "accounts.csv", ACCOUNTS)


def test_orders_file_without_rows_is_a_quiet_night(tmp_path):
    folder = write_export(tmp_path / "x", [account("A1")], [])
    assert read_export_file(folder / "orders.csv", ORDERS).rows_read == 0


def test_row_with_wrong_number_of_fields_is_kept_with_its_line(tmp_path):
    folder = write_export(
        tmp_path / "x",
        [account("A1")],
        [order("O1", "A1", "2025-06-01T10:00:00Z"), order("O2", "A1", "2025-06-02T10:00:00Z")],
    )
    lines = (folder / "orders.csv").read_text(encoding="utf-8").splitlines()
    lines[1] += ",extra"
    (folder / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    parsed = read_export_file(folder / "orders.csv", ORDERS)
    assert parsed.lines == [3]
    assert parsed.rows_read == 2
    ((line, raw, reason),) = parsed.malformed
    assert line == 2
    assert raw.endswith(",extra")
    assert reason == "row: has 10 fields, the header has 9"


def test_quoted_newline_keeps_later_line_numbers_true_to_the_file(tmp_path):
    folder = write_export(
        tmp_path / "x", [account("A1", first_name="Line\nbreak"), account("A2")], []
    )
    parsed = read_export_file(folder / "accounts.csv", ACCOUNTS)
    assert parsed.lines == [2, 4]
    assert parsed.values["first_name"][0] == "Line\nbreak"


def test_blank_lines_are_not_rows(tmp_path):
    folder = write_export(tmp_path / "x", [account("A1")], [])
    with open(folder / "accounts.csv", "a", encoding="utf-8") as handle:
        handle.write("\n\n")
    assert read_export_file(folder / "accounts.csv", ACCOUNTS).rows_read == 1


def test_find_waits_for_success_marker_written_during_the_wait(tmp_path):
    import threading

    folder = write_export(tmp_path / "landing" / "2025-06-30", [account("A1")], [])
    (folder / "_SUCCESS").unlink()
    threading.Timer(0.3, (folder / "_SUCCESS").touch).start()
    export = locate_export(tmp_path / "landing", NIGHT, wait_seconds=5, poll_seconds=0.05)
    assert export.path == folder


def test_find_gives_up_after_the_wait_naming_folder_and_wait(tmp_path):
    with pytest.raises(ExportNotReady, match=r"2025-06-30 does not exist after waiting 0\.005 "):
        locate_export(tmp_path / "landing", NIGHT, wait_seconds=0.3, poll_seconds=0.05)
