"""The night's rejected rows as files: ``quarantine/<D>/<file>__quarantined.csv`` from
``ops.quarantined_rows``, one per export file with rejected rows, written whole or not
at all."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from next_steps.private_files import write_private
from next_steps.safe_csv import write_rows

QUARANTINE_COLUMNS = ("line_number", "reason", "raw_row")
#: Quarantine file columns that are text (``line_number`` is a number).
QUARANTINE_TEXT_COLUMNS = ("reason", "raw_row")


def write_quarantine_files(connection, night: date, folder: Path) -> list[Path]:
    """Write night D's quarantined rows per file as CSV (owner and group only).

    ``reason`` and ``raw_row`` are text cells: one that begins with a character a
    spreadsheet reads as a formula gets a leading ``'`` (:mod:`next_steps.safe_csv`);
    ``ops.quarantined_rows`` keeps the raw row as it was."""
    rows_by_file: dict[str, list[tuple]] = {}
    for file_name, line, reason, raw in connection.execute(
        "select file_name, line_number, reason, raw_row from ops.quarantined_rows "
        "where export_date = ? order by file_name, line_number",
        [night],
    ).fetchall():
        rows_by_file.setdefault(file_name, []).append((line, reason, raw))
    if folder.exists():
        for stale in folder.glob("*.csv"):
            stale.unlink()
    written = []
    for file_name, rows in rows_by_file.items():
        target = folder / f"{file_name.split('.')[0]}__quarantined.csv"
        temporary = target.with_suffix(".csv.tmp")

        def write_file(handle, rows=rows) -> None:
            write_rows(handle, QUARANTINE_COLUMNS, rows, QUARANTINE_TEXT_COLUMNS)

        write_private(temporary, write_file)
        os.replace(temporary, target)
        written.append(target)
    return written
