"""The warehouse file: connections, and the working copy a night builds on.

A night never writes the file BI tools read.  ``load_warehouse`` starts a working copy
(:func:`start_working_copy`), every later step writes that copy, and ``publish_night``
renames it over the published file (:func:`publish_working_copy`): readers see the
previous night or the new one, never half a night.  Which night may hold the working
copy is :mod:`next_steps.build.warehouse_lease`'s business.

The working copy is a byte copy of the published file, or, once the file has grown to
``compact_at`` times the size it had after the night built on the last compacted copy
(:func:`compaction_reference`), a compacted one: DuckDB's
``COPY FROM DATABASE`` into a new file, the way DuckDB's manual reclaims space. A DuckDB
file keeps the blocks of every row group a checkpoint rewrote (the histories' and logs'
last row groups, every night) partly or wholly unused, and reuses them only in part: on
the bench's 100k-order year, 29.3 MiB after 30 nights held 17.5 MiB of data. Every copy
is recorded in ``ops.warehouse_copies`` (in the working copy, so a night that fails leaves
no record of a copy it threw away).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from next_steps.private_files import FILE_MODE


def connect(warehouse: Path, read_only: bool = False, memory_limit: str | None = None):
    """A connection to the warehouse file.  A writer gets ``memory_limit`` and spills to
    a folder beside the file above it."""
    import duckdb

    config = {}
    if not read_only:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(warehouse.with_name(warehouse.name + ".spill"))
        if memory_limit:
            config["memory_limit"] = memory_limit
    connection = duckdb.connect(str(warehouse), read_only=read_only, config=config)
    connection.execute("set TimeZone = 'UTC'")
    connection.execute("set enable_progress_bar = false")
    # rows carry their export date and line: inserting them in any order lets DuckDB
    # write in parallel
    connection.execute("set preserve_insertion_order = false")
    return connection


def scratch_database(warehouse: Path) -> Path:
    """The night's scratch database beside ``warehouse`` (profiles.yml attaches it as
    ``scratch``): the intermediate tables dbt rebuilds whole every night."""
    return warehouse.with_name(warehouse.name + ".scratch")


def remove_scratch_database(warehouse: Path) -> None:
    """Remove the scratch database of ``warehouse`` and its write-ahead log, if any."""
    scratch = scratch_database(warehouse)
    for path in (scratch, scratch.with_name(scratch.name + ".wal")):
        path.unlink(missing_ok=True)


@dataclass(frozen=True)
class WorkingCopy:
    """How a night's working copy was made (a row of ``ops.warehouse_copies``)."""

    published_bytes: int
    working_bytes: int
    compacted: bool
    seconds: float


COPIES_TABLE = "ops.warehouse_copies"


def start_working_copy(
    published: Path,
    working: Path,
    compact_at: float = 0.0,
    memory_limit: str | None = None,
) -> WorkingCopy | None:
    """Begin a night: a fresh copy of the published warehouse (None: there is none yet,
    the first night).

    A compacted copy when ``compact_at`` > 0 and the published file is at least
    ``compact_at`` times its size on the first copy after its last compaction
    (:func:`compaction_reference`); a byte copy otherwise.
    A working copy left by a run that was killed is discarded, never continued.
    """
    for stale in (working, working.with_name(working.name + ".wal")):
        stale.unlink(missing_ok=True)
    working.parent.mkdir(parents=True, exist_ok=True)
    if not published.exists():
        return None
    published_bytes = published.stat().st_size
    reference = compaction_reference(published) if compact_at > 0 else None
    compact = reference is not None and published_bytes >= compact_at * reference
    temporary = working.with_name(working.name + ".copying")
    # what a copy that was killed left (a compaction's write-ahead log included)
    for stale in (temporary, temporary.with_name(temporary.name + ".wal")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    if compact:
        compact_copy(published, temporary, memory_limit)
    else:
        shutil.copyfile(published, temporary)
    os.replace(temporary, working)
    return WorkingCopy(
        published_bytes=published_bytes,
        working_bytes=working.stat().st_size,
        compacted=compact,
        seconds=time.perf_counter() - started,
    )


def compaction_reference(published: Path) -> int | None:
    """The size the published file had on the first copy after its last compaction (on
    its first copy, if it was never compacted), as recorded in it: the file a night
    built on a compacted copy published, with that night's own working space. None when
    there is no such copy yet (none recorded, or the last copy was the compaction)."""
    import duckdb

    connection = duckdb.connect(str(published), read_only=True)
    try:
        if not copies_recorded(connection):
            return None
        row = connection.execute(
            f"""
            with copies as (
                select
                    published_bytes,
                    compacted,
                    row_number() over (order by copied_at) as copy_number
                from {COPIES_TABLE}
            )
            select published_bytes from copies
            where copy_number > (
                select coalesce(max(copy_number), 0) from copies where compacted
            )
            order by copy_number
            limit 1
            """
        ).fetchone()
    finally:
        connection.close()
    return row[0] if row else None


def has_tables(connection, *names: str) -> bool:
    """Whether the warehouse of ``connection`` (DuckDB) has every table ``names`` names,
    each as ``schema.table``."""
    wanted = {tuple(name.split(".")) for name in names}
    schemas = sorted({schema for schema, _ in wanted})
    found = connection.execute(
        "select schema_name, table_name from duckdb_tables() "
        f"where schema_name in ({', '.join('?' for _ in schemas)})",
        schemas,
    ).fetchall()
    return wanted <= set(found)


def copies_recorded(connection) -> bool:
    """Whether the warehouse has ``ops.warehouse_copies`` (one from before it has not)."""
    return has_tables(connection, COPIES_TABLE)


def _sql_string(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def compact_copy(source: Path, target: Path, memory_limit: str | None = None) -> None:
    """Write ``target``, a new file holding what ``source`` holds (every schema, table,
    view and row, in the tables' order) without the space ``source`` no longer uses."""
    import duckdb

    config = {"temp_directory": str(target.with_name(target.name + ".spill"))}
    if memory_limit:
        config["memory_limit"] = memory_limit
    connection = duckdb.connect(config=config)
    try:
        connection.execute(f"attach {_sql_string(source)} as compaction_source (read_only)")
        connection.execute(f"attach {_sql_string(target)} as compaction_target")
        connection.execute("copy from database compaction_source to compaction_target")
        connection.execute("detach compaction_target")
    finally:
        connection.close()
    _require_no_write_ahead_log(target, "the compacted copy was closed")


def _require_no_write_ahead_log(database: Path, after: str) -> None:
    wal = database.with_name(database.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"{wal} is still there after {after}.")


def record_working_copy(connection, night: date, copy: WorkingCopy) -> None:
    """Add the night's copy to ``ops.warehouse_copies`` (in the caller's transaction)."""
    connection.execute(
        f"insert into {COPIES_TABLE} values (?, current_timestamp, ?, ?, ?, ?)",
        [night, copy.published_bytes, copy.working_bytes, copy.compacted, copy.seconds],
    )


def publish_working_copy(working: Path, published: Path) -> None:
    """Make the built night visible: checkpoint the working copy, rename it over the
    published file.  Readers that opened the old file keep reading the old night."""
    if not working.exists():
        raise FileNotFoundError(
            f"No working warehouse {working}: load_warehouse must run before publishing."
        )
    connection = connect(working)
    try:
        connection.execute("checkpoint")
    finally:
        connection.close()
    _require_no_write_ahead_log(working, "a checkpoint; not publishing")
    os.chmod(working, FILE_MODE)
    os.replace(working, published)
