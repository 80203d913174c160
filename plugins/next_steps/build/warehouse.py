"""The warehouse file: connections, and the working copy a night builds on.

A night never writes the file BI tools read.  ``load_warehouse`` starts a working copy
(:func:`start_working_copy`), every later step writes that copy, and ``publish_night``
renames it over the published file (:func:`publish_working_copy`): readers see the
previous night or the new one, never half a night.  Which night may hold the working
copy is :mod:`next_steps.build.warehouse_lease`'s business.
"""

from __future__ import annotations

import os
import shutil
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


def start_working_copy(published: Path, working: Path) -> None:
    """Begin a night: a fresh copy of the published warehouse (or none, the first night).

    A working copy left by a run that was killed is discarded, never continued.
    """
    for stale in (working, working.with_name(working.name + ".wal")):
        stale.unlink(missing_ok=True)
    working.parent.mkdir(parents=True, exist_ok=True)
    if published.exists():
        temporary = working.with_name(working.name + ".copying")
        shutil.copyfile(published, temporary)
        os.replace(temporary, working)


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
    wal = working.with_name(working.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"{wal} is still there after a checkpoint; not publishing.")
    os.chmod(working, FILE_MODE)
    os.replace(working, published)
