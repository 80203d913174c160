"""Write the night's outreach files and publish the folder whole.

Layout (``shared/DESIGN.md``, output contract)::

    <outreach>/<YYYY-MM-DD>/<campaign>/<campaign>__<segment>.csv
    <outreach>/<YYYY-MM-DD>/report.html        the night's report (next_steps.publish.report)
    <outreach>/<YYYY-MM-DD>/manifest.json      files, row counts, sha256, run id, export
    <outreach>/<YYYY-MM-DD>/_SUCCESS           written last

The rows come from the dbt view ``pump.pump_outreach_lists``: the people ``listed`` in
``marts.outreach_log`` (opted-out, terminated, invalid e-mail, cool-down and holdout
people are already left out there); the writer reads night D and every later night built.
Building D recomputes those later nights (their cool-downs depend on D), so their
folders are written again, but only when their lists changed: normally there are none.
Files are written into a hidden folder beside the target and moved into place with a
rename, so a marketing tool never sees half a night.  Rows are sorted by predicted value
(``predicted_value_365d``, highest first, then the people without one), then by account
id, and values are rendered as text by DuckDB, so a re-run writes byte-identical CSV
files.
A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
written with a leading ``'`` so that a spreadsheet shows it rather than running it as a
formula (:mod:`next_steps.safe_csv`); numeric and date columns are written as they are.
Files hold personal data: they are created readable by owner and group only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from next_steps.ingest.contract import SUCCESS_MARKER
from next_steps.private_files import DIR_MODE, write_private, write_private_json
from next_steps.safe_csv import write_rows as write_csv_rows

OUTREACH_MODEL = "pump.pump_outreach_lists"
REPORT_NAME = "report.html"
FILE_COLUMNS = (
    "account_id",
    "first_name",
    "email",
    "language",
    "country",
    "segment",
    "next_step",
    "orders_12m",  # deprecated name of orders_in_window, kept in place for release 0.2 only
    "revenue_12m",  # deprecated name of revenue_in_window, kept in place for release 0.2 only
    "last_order_date",
    "reason",
    "due_because",
    "touchpoint_day",
    "sponsor_account_id",
    "sponsor_first_name",
    "upline_leader_account_id",
    "upline_leader_first_name",
    "orders_in_window",
    "revenue_in_window",
    "p_alive",
    "expected_next_purchase_date",
    "predicted_value_365d",
    # which campaign and night the row belongs to: distributor_reactivation rows say
    # next_step reactivation, as the customer campaign's do
    "campaign",
    "as_of_date",
    # what to offer and why (issue 17; empty when the campaign offers no product)
    "offer_sku",
    "offer_reason",
)
#: The file columns that are not text (numbers and a date): written as they are. Every
#: other column is text, and a text cell that would start a formula in a spreadsheet
#: gets a leading ``'`` (:mod:`next_steps.safe_csv`).
NOT_TEXT_COLUMNS = frozenset(
    {
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
    }
)
TEXT_COLUMNS = tuple(column for column in FILE_COLUMNS if column not in NOT_TEXT_COLUMNS)

NightLists = dict[tuple[str, str], list[tuple]]


@dataclass(frozen=True)
class OutreachFile:
    campaign: str
    segment: str
    path: str  # relative to the night's folder
    rows: int
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_lists(connection, night: date) -> dict[date, NightLists]:
    """Rows per night and (campaign, segment), as text, highest predicted value first.

    Holds ``night`` and every later night of the warehouse, also those whose lists are
    empty (their folders must be emptied too when a recompute emptied them). Later nights
    whose next steps have no campaign at all (built before campaigns existed) are left
    alone rather than emptied: rebuild them to write their folders.
    """
    nights = connection.execute(
        "select as_of_date from marts.next_steps where as_of_date > ? "
        "group by as_of_date having count(campaign) > 0",
        [night],
    ).fetchall()
    lists: dict[date, NightLists] = {night: {}, **{later: {} for (later,) in nights}}
    selected = ", ".join(f"coalesce(cast({column} as varchar), '')" for column in FILE_COLUMNS)
    rows = connection.execute(
        f"select as_of_date, campaign, segment, {selected} from {OUTREACH_MODEL} "
        "where as_of_date >= ? "
        "order by as_of_date, campaign, segment, predicted_value_365d desc nulls last, account_id",
        [night],
    ).fetchall()
    for list_night, campaign, segment, *values in rows:
        lists.setdefault(list_night, {}).setdefault((campaign, segment), []).append(tuple(values))
    return dict(sorted(lists.items()))


def write_night(
    lists: NightLists,
    folder: Path,
    night: date,
    run_id: str,
    source_export: Path,
    report_html: str | None = None,
) -> list[OutreachFile]:
    """Write the files, the report, manifest and ``_SUCCESS`` of one night into
    ``folder`` (new)."""
    files: list[OutreachFile] = []
    for (campaign, segment), rows in sorted(lists.items()):
        relative = Path(campaign) / f"{campaign}__{segment}.csv"
        if any(len(row) != len(FILE_COLUMNS) for row in rows):
            raise ValueError(
                f"{relative}: every row must have the {len(FILE_COLUMNS)} file columns"
            )

        def write_rows(handle, rows=rows) -> None:
            write_csv_rows(handle, FILE_COLUMNS, rows, TEXT_COLUMNS)

        write_private(folder / relative, write_rows, exclusive=True)
        files.append(
            OutreachFile(
                campaign, segment, relative.as_posix(), len(rows), sha256_of(folder / relative)
            )
        )
    report = None
    if report_html is not None:
        write_private(
            folder / REPORT_NAME, lambda handle: handle.write(report_html), exclusive=True
        )
        report = {"path": REPORT_NAME, "sha256": sha256_of(folder / REPORT_NAME)}
    manifest = {
        "as_of_date": night.isoformat(),
        "export_date": night.isoformat(),
        "source_export": str(source_export),
        "run_id": run_id,
        "columns": list(FILE_COLUMNS),
        "files": [file.__dict__ for file in files],
        "total_rows": sum(file.rows for file in files),
        "report": report,
    }
    write_private_json(folder / "manifest.json", manifest, exclusive=True)
    write_private(folder / SUCCESS_MARKER, lambda handle: None, exclusive=True)
    return files


def published_manifest(folder: Path) -> dict | None:
    """A published night's manifest, or None when there is none."""
    manifest = folder / "manifest.json"
    if not (folder / SUCCESS_MARKER).exists() or not manifest.exists():
        return None
    return json.loads(manifest.read_text(encoding="utf-8"))


def published_files(folder: Path) -> list[dict] | None:
    """The file list of a published night's manifest, or None when there is none."""
    manifest = published_manifest(folder)
    return None if manifest is None else manifest["files"]


@dataclass(frozen=True)
class StagedNight:
    """A night's folder written whole, hidden beside its target until :func:`swap_in`."""

    night: date
    folder: Path
    files: list[OutreachFile]


def stage_night(
    lists: NightLists,
    outreach_dir: Path,
    night: date,
    run_id: str,
    source_export: Path,
    *,
    only_if_changed: bool = False,
    report_html: str | None = None,
) -> StagedNight | None:
    """Write the night into a hidden folder beside ``<outreach>/<night>`` (nobody reads
    it there).  This is where a full disk fails a night: before anything is published.

    With ``only_if_changed`` an already published folder whose files are the same (same
    names, row counts and checksums) is kept as it is, and None is returned.
    """
    outreach_dir.mkdir(parents=True, exist_ok=True)
    # Leftovers of a run that was killed mid-write or mid-swap: never published, never
    # read (consumers only read <night>/ folders that have _SUCCESS); removed here.
    for stale in outreach_dir.glob(f".*-{night.isoformat()}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    incoming = outreach_dir / f".incoming-{night.isoformat()}-{uuid.uuid4().hex[:12]}"
    try:
        files = write_night(lists, incoming, night, run_id, source_export, report_html)
        if only_if_changed and published_files(outreach_dir / night.isoformat()) == [
            file.__dict__ for file in files
        ]:
            shutil.rmtree(incoming)
            return None
        os.chmod(incoming, DIR_MODE)
    except BaseException:
        shutil.rmtree(incoming, ignore_errors=True)
        raise
    return StagedNight(night, incoming, files)


@contextlib.contextmanager
def swapped_in(staged: list[StagedNight]) -> Iterator[None]:
    """Move staged folders over their targets: renames only (no disk space needed).  All
    or none: if a rename fails, or the ``with`` block does (publishing the warehouse),
    the renames already made are undone and the previous folders are back."""
    done: list[tuple[StagedNight, Path, Path | None]] = []
    try:
        for night in staged:
            target = night.folder.parent / night.night.isoformat()
            replaced = None
            if target.exists():
                replaced = night.folder.with_name(
                    night.folder.name.replace(".incoming-", ".replaced-", 1)
                )
                os.rename(target, replaced)
            done.append((night, target, replaced))
            os.rename(night.folder, target)
        yield
    except BaseException:
        for night, target, replaced in reversed(done):
            if not night.folder.exists() and target.exists():
                os.rename(target, night.folder)
            if replaced is not None:
                os.rename(replaced, target)
        raise
    for _, _, replaced in done:
        if replaced is not None:
            shutil.rmtree(replaced, ignore_errors=True)


def publish_night(
    lists: NightLists,
    outreach_dir: Path,
    night: date,
    run_id: str,
    source_export: Path,
    *,
    only_if_changed: bool = False,
    report_html: str | None = None,
) -> list[OutreachFile] | None:
    """Stage one night's folder and swap it in at once (a night's outreach folder on its
    own; the nightly run stages first and swaps in with the warehouse,
    ``next_steps.nightly.publish_night``)."""
    staged = stage_night(
        lists,
        outreach_dir,
        night,
        run_id,
        source_export,
        only_if_changed=only_if_changed,
        report_html=report_html,
    )
    if staged is None:
        return None
    with swapped_in([staged]):
        pass
    return staged.files
