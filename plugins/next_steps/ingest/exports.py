"""Find a night's export and read its files, keeping every row's line number.

Every data row keeps the line it started on (the header is line 1), and a row with the
wrong number of fields is kept, with a reason, instead of being dropped by a parser.

:func:`read_into_duckdb` reads a file with DuckDB's parallel CSV reader when every row of
the file is one physical line (no quoted line breaks, no blank lines, no row with the
wrong number of fields): then the n-th row read is on line n + 1, and DuckDB keeps the
file's order.  It counts the file's line breaks to prove that, and otherwise reads the
file with Python's ``csv`` module (:func:`read_export_file`), which follows every row to
its exact line and keeps malformed rows with their reason.
"""

from __future__ import annotations

import csv
import gzip
import io
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from next_steps.errors import ExportFileError, ExportNotReady
from next_steps.ingest.contract import EXPORT_FILES, SUCCESS_MARKER, ExportFileSpec


@dataclass(frozen=True)
class ExportFolder:
    """A complete export: its night, folder and the path of each file present."""

    night: date
    path: Path
    files: dict[str, Path]


def _not_ready(folder: Path, night: date) -> str | None:
    if not folder.is_dir():
        return f"No export for {night}: folder {folder} does not exist"
    if not (folder / SUCCESS_MARKER).is_file():
        return (
            f"Export {folder} is not complete: it has no {SUCCESS_MARKER} file "
            "(the export may still be being written)"
        )
    return None


def locate_export(
    landing_dir: Path, night: date, wait_seconds: float = 0.0, poll_seconds: float = 30.0
) -> ExportFolder:
    """Return the complete export for ``night`` or fail naming the folder and problem.

    Waits up to ``wait_seconds`` for the folder and its ``_SUCCESS`` marker, looking
    every ``poll_seconds``.
    """
    folder = landing_dir / night.isoformat()
    deadline = time.monotonic() + wait_seconds
    while (problem := _not_ready(folder, night)) is not None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            waited = f" after waiting {wait_seconds / 60:g} minute(s)" if wait_seconds else ""
            raise ExportNotReady(f"{problem}{waited}.")
        time.sleep(min(poll_seconds, remaining))
    files: dict[str, Path] = {}
    for spec in EXPORT_FILES:
        candidates = [
            p for p in (folder / f"{spec.name}.csv", folder / f"{spec.name}.csv.gz") if p.is_file()
        ]
        if len(candidates) > 1:
            raise ExportFileError(
                f"Export {folder} has both {spec.name}.csv and {spec.name}.csv.gz; "
                "keep exactly one."
            )
        if candidates:
            files[spec.name] = candidates[0]
        elif spec.required:
            raise ExportFileError(f"Export {folder} has no {spec.name}.csv (required file).")
    return ExportFolder(night=night, path=folder, files=files)


@dataclass
class ParsedFile:
    """The rows of one export file, as text, by line number."""

    spec: ExportFileSpec
    path: Path
    #: ``source_line`` of each well-formed data row.
    lines: list[int] = field(default_factory=list)
    #: One list of values per column of the contract, in the contract's column order.
    values: dict[str, list[str]] = field(default_factory=dict)
    #: ``(source_line, raw_row, reason)`` for rows that cannot be split into the columns.
    malformed: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.lines) + len(self.malformed)


def _open_binary(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def _open_text(path: Path) -> io.TextIOBase:
    # Strict decoding: a file that is not UTF-8 fails (see _not_utf8 for the message).
    return io.TextIOWrapper(_open_binary(path), encoding="utf-8-sig", errors="strict", newline="")


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> ExportFileError:
    """The error for a file that is not UTF-8, naming the first physical line that isn't."""
    with _open_binary(path) as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as bad:
                return ExportFileError(
                    f"{path} is not UTF-8: undecodable byte 0x{line[bad.start]:02x} on line "
                    f"{number} (byte {bad.start + 1} of the line). Re-export it as UTF-8."
                )
    return ExportFileError(f"{path} is not UTF-8 ({exc.reason}).")


def raw_text(fields: list[str]) -> str:
    """A row as it would be written back to a CSV line (for quarantine records)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue()


def _rows(reader: Iterator[list[str]], path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line the row starts on, fields)``, failing clearly on bad bytes."""
    line = 1  # the next row starts after the header
    while True:
        start = line + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, exc) from exc
        except csv.Error as exc:
            raise ExportFileError(
                f"{path} cannot be parsed as CSV near line {start}: {exc}"
            ) from exc
        line = reader.line_num  # type: ignore[attr-defined]
        yield start, fields


@contextmanager
def _gzip_errors_named(path: Path) -> Iterator[None]:
    """Turn a broken or fake ``.gz`` file into an error that names it."""
    try:
        yield
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ExportFileError(
            f"{path} cannot be read: not a gzip file, or a truncated one ({exc})."
        ) from exc


def read_export_file(path: Path, spec: ExportFileSpec) -> ParsedFile:
    """Read ``path`` as the contract's ``spec`` file (see :func:`_read_export_file`)."""
    with _gzip_errors_named(path):
        return _read_export_file(path, spec)


def _header(reader: Iterator[list[str]], path: Path, spec: ExportFileSpec) -> list[str]:
    """The header row's column names; fails unless they are exactly the contract's."""
    try:
        header = next(reader)
    except StopIteration:
        raise ExportFileError(f"{path} is empty: it has no header row.") from None
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from exc
    header = [name.strip() for name in header]
    expected = spec.column_names
    missing = [name for name in expected if name not in header]
    unexpected = [name for name in header if name not in expected]
    if missing or unexpected or len(set(header)) != len(header):
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected column(s) {', '.join(unexpected)}")
        if len(set(header)) != len(header):
            problems.append("a column appears twice")
        raise ExportFileError(
            f"{path} has the wrong columns: {'; '.join(problems)}. Expected: {', '.join(expected)}."
        )
    return header


def _no_rows(path: Path, spec: ExportFileSpec) -> ExportFileError:
    return ExportFileError(f"{path} has a header but no rows; {spec.name} must have rows.")


def _read_export_file(path: Path, spec: ExportFileSpec) -> ParsedFile:
    """Read ``path`` as the contract's ``spec`` file.

    Fails (``ExportFileError``) on a missing or unexpected column, a file that is not
    UTF-8, and a file with no data rows where the contract expects rows.  A data row
    with the wrong number of fields is kept in ``malformed``; blank lines are skipped.
    """
    parsed = ParsedFile(spec=spec, path=path, values={name: [] for name in spec.column_names})
    with _open_text(path) as handle:
        reader = csv.reader(handle, strict=False)
        header = _header(reader, path, spec)
        expected = spec.column_names
        positions = [header.index(name) for name in expected]
        width = len(header)
        columns = [parsed.values[name] for name in expected]
        for line, fields in _rows(reader, path):
            if not fields or (len(fields) == 1 and not fields[0].strip() and width > 1):
                continue  # a blank line is not a row
            if len(fields) != width:
                parsed.malformed.append(
                    (
                        line,
                        raw_text(fields),
                        f"row: has {len(fields)} fields, the header has {width}",
                    )
                )
                continue
            parsed.lines.append(line)
            for values, position in zip(columns, positions, strict=True):
                values.append(fields[position])
    if spec.rows_required and parsed.rows_read == 0:
        raise _no_rows(path, spec)
    return parsed


@dataclass(frozen=True)
class RowsRead:
    """What :func:`read_into_duckdb` read: rows in the table, malformed rows, and how."""

    rows: int
    #: ``(source_line, raw_row, reason)`` for rows that cannot be split into the columns.
    malformed: list[tuple[int, str, str]]
    reader: str
    #: Every value is printable ASCII (tabs allowed): see :mod:`next_steps.ingest.row_rules`.
    printable_ascii: bool = False

    @property
    def rows_read(self) -> int:
        return self.rows + len(self.malformed)


#: Bytes of a file whose values are all printable ASCII, with its line ends.
_PRINTABLE = bytes([0x09, 0x0A, 0x0D, *range(0x20, 0x7F)])


@dataclass(frozen=True)
class _Lines:
    count: int
    lone_return: bool
    printable_ascii: bool


def _physical_lines(path: Path) -> _Lines:
    """The file's physical lines, whether one ends in a lone CR, and whether every byte
    is printable ASCII or a line end."""
    feeds = returns = pairs = 0
    printable = True
    last = b""
    with _open_binary(path) as handle:
        while chunk := handle.read(1 << 24):
            # a CR LF pair split between two chunks
            pairs += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
            feeds += chunk.count(b"\n")
            returns += chunk.count(b"\r")
            printable = printable and not chunk.translate(None, _PRINTABLE)
            last = chunk[-1:]
    count = feeds + (0 if last in (b"\n", b"") else 1)
    return _Lines(count=count, lone_return=returns != pairs, printable_ascii=printable)


def read_into_duckdb(connection, path: Path, spec: ExportFileSpec, table: str) -> RowsRead:
    """Read ``path`` into DuckDB as the view ``table``: ``source_line`` and the contract's
    columns as text (empty fields as empty text), in the contract's column order, over
    the table ``<table>_file`` that holds the rows as read.

    File-level problems fail with the same messages as :func:`read_export_file`.
    """
    import duckdb

    from next_steps.ingest.row_rules import quote_identifier, quote_literal

    with _gzip_errors_named(path), _open_text(path) as handle:
        header = _header(csv.reader(handle, strict=False), path, spec)
    columns = ", ".join(f"{quote_literal(name)}: 'VARCHAR'" for name in header)
    compression = "gzip" if path.name.endswith(".gz") else "none"
    drop_rows(connection, table)
    # the row's position in the table must be its position in the file
    connection.execute("set preserve_insertion_order = true")
    try:
        connection.execute(
            f"""
            create table {table}_file as select * from read_csv(
                ?, header = true, columns = {{{columns}}}, auto_detect = false,
                delim = ',', quote = '"', escape = '"', strict_mode = true,
                null_padding = false, compression = '{compression}')
            """,
            [str(path)],
        )
        [(rows,)] = connection.execute(f"select count(*) from {table}_file").fetchall()
        lines = _physical_lines(path)
        # the header and the rows are exactly the file's lines: one row per line
        fast = not lines.lone_return and lines.count == rows + 1
    except (duckdb.Error, OSError, EOFError, zlib.error):
        fast = False
    if fast:
        if spec.rows_required and rows == 0:
            raise _no_rows(path, spec)
        # Insertion order is kept, so the table's rowid is the row's position in the file.
        source_line = "rowid + 2"
        read = RowsRead(
            rows=rows, malformed=[], reader="duckdb", printable_ascii=lines.printable_ascii
        )
    else:
        drop_rows(connection, table)
        parsed = read_export_file(path, spec)
        _insert_parsed(connection, parsed, f"{table}_file")
        source_line = "source_line"
        read = RowsRead(rows=len(parsed.lines), malformed=parsed.malformed, reader="python")
    selected = ", ".join(
        f"coalesce({quote_identifier(name)}, '') as {quote_identifier(name)}"
        for name in spec.column_names
    )
    connection.execute(
        f"create view {table} as select {source_line} as source_line, {selected} from {table}_file"
    )
    return read


def drop_rows(connection, table: str) -> None:
    """Drop what :func:`read_into_duckdb` made of ``table``."""
    connection.execute(f"drop view if exists {table}")
    connection.execute(f"drop table if exists {table}_file")


def _insert_parsed(connection, parsed: ParsedFile, table: str) -> None:
    """The rows the Python reader parsed, as the table ``table`` (with ``source_line``)."""
    import pandas as pd

    from next_steps.ingest.row_rules import quote_identifier

    frame = pd.DataFrame(parsed.values, dtype="object")
    frame.insert(0, "source_line", pd.Series(parsed.lines, dtype="int64"))
    columns = ", ".join(
        f"cast({quote_identifier(n)} as varchar) as {quote_identifier(n)}"
        for n in parsed.spec.column_names
    )
    connection.register("parsed_frame", frame)
    try:
        connection.execute(
            f"create table {table} as select source_line, {columns} from parsed_frame"
        )
    finally:
        connection.unregister("parsed_frame")
