"""Publishing a night's outreach files: whole or not at all, byte-identical on re-run,
readable by owner and group only."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import stat
from datetime import date

import pytest

from next_steps.publish import outreach

NIGHT = date(2025, 6, 30)
ROW = (
    "A1",
    "Ana",
    "ana@example.com",
    "pl",
    "PL",
    "1",
    "second_order",
    "1",
    "50.00",
    "2025-06-01",
    "Bought once",
    "new_step",
    "",
    "D9",
    "Dora",
    "",
    "",
    "1",
    "50.00",
    "0.83",
    "2025-07-15",
    "120.50",
    "second_order",
    "2025-06-30",
    "SKU-0031",
    "Buyers whose first order had SKU-0017 most often bought SKU-0031 in their second order.",
)
LISTS = {
    ("second_order", "1"): [ROW, ("A2", *ROW[1:])],
    ("referral", "11+"): [
        (
            "A3",
            *ROW[1:5],
            "11+",
            "referral",
            "12",
            "900.00",
            "2025-06-20",
            "Bought often",
            *ROW[11:17],
            "12",
            "900.00",
            "",
            "",
            "",
            "referral",
            "2025-06-30",
            "SKU-0024",
            "Often in the same order as SKU-0017, which they bought; they have not bought SKU-0024 yet.",
        )
    ],
}


def _publish(tmp_path, lists=LISTS, run_id="run-1"):
    return outreach.publish_night(
        lists, tmp_path / "outreach", NIGHT, run_id, tmp_path / "landing" / "2025-06-30"
    )


def test_files_follow_the_layout_with_manifest_and_success(tmp_path):
    files = _publish(tmp_path)
    folder = tmp_path / "outreach" / "2025-06-30"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "_SUCCESS",
        "manifest.json",
        "referral/referral__11+.csv",
        "second_order/second_order__1.csv",
    ]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["run_id"] == "run-1"
    assert manifest["export_date"] == "2025-06-30"
    assert manifest["total_rows"] == 3
    for entry in manifest["files"]:
        content = (folder / entry["path"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry["sha256"]
        assert content.count(b"\n") == entry["rows"] + 1
    assert [f.rows for f in files] == [1, 2]
    header = (folder / "second_order/second_order__1.csv").read_text().splitlines()[0]
    assert header == ",".join(outreach.FILE_COLUMNS)


def test_files_are_readable_by_owner_and_group_only(tmp_path):
    _publish(tmp_path)
    folder = tmp_path / "outreach" / "2025-06-30"
    for path in folder.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o007 == 0, f"{path} is readable by others ({oct(mode)})"


def test_republishing_replaces_the_night_with_byte_identical_files(tmp_path):
    _publish(tmp_path)
    folder = tmp_path / "outreach" / "2025-06-30"
    first = {p.name: p.read_bytes() for p in folder.rglob("*.csv")}
    _publish(tmp_path, {("second_order", "1"): LISTS[("second_order", "1")]})
    assert not (folder / "referral").exists(), "a stale campaign survived the re-run"
    _publish(tmp_path)
    assert {p.name: p.read_bytes() for p in folder.rglob("*.csv")} == first
    assert [p.name for p in (tmp_path / "outreach").iterdir()] == ["2025-06-30"]


def test_a_failed_write_leaves_the_published_night_untouched(tmp_path, monkeypatch):
    _publish(tmp_path)
    folder = tmp_path / "outreach" / "2025-06-30"
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    def broken_sha(path):
        raise OSError("disk full")

    monkeypatch.setattr(outreach, "sha256_of", broken_sha)
    with pytest.raises(OSError, match="disk full"):
        _publish(tmp_path, run_id="run-2")
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert [p.name for p in (tmp_path / "outreach").iterdir()] == ["2025-06-30"]


def test_a_night_with_nobody_to_contact_still_publishes_a_manifest(tmp_path):
    assert _publish(tmp_path, {}) == []
    folder = tmp_path / "outreach" / "2025-06-30"
    assert json.loads((folder / "manifest.json").read_text())["files"] == []
    assert (folder / "_SUCCESS").exists()


def test_a_later_night_is_written_again_only_when_its_files_changed(tmp_path):
    _publish(tmp_path, run_id="first")
    folder = tmp_path / "outreach" / "2025-06-30"

    def publish_again(lists, run_id):
        return outreach.publish_night(
            lists, tmp_path / "outreach", NIGHT, run_id, tmp_path / "landing", only_if_changed=True
        )

    assert publish_again(LISTS, "same") is None
    assert json.loads((folder / "manifest.json").read_text())["run_id"] == "first"

    changed = {("second_order", "1"): [ROW]}
    assert [f.rows for f in publish_again(changed, "changed")] == [1]
    assert json.loads((folder / "manifest.json").read_text())["run_id"] == "changed"
    assert not (folder / "referral").exists()

    assert publish_again({}, "emptied") == []
    assert not list(folder.rglob("*.csv"))
    assert (folder / "_SUCCESS").exists()


def test_a_row_without_every_file_column_is_refused(tmp_path):
    with pytest.raises(ValueError, match=f"{len(outreach.FILE_COLUMNS)} file columns"):
        _publish(tmp_path, lists={("second_order", "1"): [ROW[:11]]})
    assert not (tmp_path / "outreach" / "2025-06-30").exists()


def test_text_cells_start_no_formula_and_numbers_stay_numbers(tmp_path):
    columns = outreach.FILE_COLUMNS
    row = dict(zip(columns, ROW, strict=True))
    row |= {"first_name": "=cmd|' /C calc'!A0", "sponsor_first_name": "+Dora"}
    row |= {"revenue_in_window": "-12.50", "orders_in_window": "-1", "touchpoint_day": "-7"}
    row |= {"revenue_12m": "-12.50", "orders_12m": "-1"}
    _publish(tmp_path, {("second_order", "1"): [tuple(row.values())]})
    path = tmp_path / "outreach" / "2025-06-30" / "second_order" / "second_order__1.csv"
    (written,) = csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8"), newline=""))
    assert written == row | {"first_name": "'=cmd|' /C calc'!A0", "sponsor_first_name": "'+Dora"}
    assert {
        "orders_in_window",
        "revenue_in_window",
        "orders_12m",
        "revenue_12m",
        "last_order_date",
        "touchpoint_day",
        "p_alive",
        "expected_next_purchase_date",
        "predicted_value_365d",
        "as_of_date",
    } == outreach.NOT_TEXT_COLUMNS
    assert set(outreach.TEXT_COLUMNS) | outreach.NOT_TEXT_COLUMNS == set(columns)
