"""The working copy a night builds on: a byte copy of the published warehouse, or, once the
file has grown to ``NEXT_STEPS_WAREHOUSE_COMPACT_AT`` times its size after its last
compaction, a compacted copy that holds every schema, table, view and row and less
unused space; each copy is recorded in ``ops.warehouse_copies``."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest

from next_steps.build import warehouse
from next_steps.ingest.schema import ensure_schema

NIGHT = date(2025, 3, 31)

CATALOG = {
    "schemas": "select schema_name from duckdb_schemas() where database_name = '{db}'",
    "tables": "select schema_name, table_name, sql from duckdb_tables() where database_name = '{db}'",
    "views": (
        "select schema_name, view_name, sql from duckdb_views() "
        "where database_name = '{db}' and not internal"
    ),
    "columns": (
        "select schema_name, table_name, column_index, column_name, data_type, column_default, "
        "is_nullable from duckdb_columns() where database_name = '{db}'"
    ),
    "constraints": (
        "select schema_name, table_name, constraint_type, constraint_text "
        "from duckdb_constraints() where database_name = '{db}'"
    ),
}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _grown_warehouse(path: Path) -> None:
    """A warehouse whose history tables were appended to and updated night after night,
    checkpointed each time: the file keeps blocks its checkpoints rewrote."""
    with duckdb.connect(str(path)) as connection:
        ensure_schema(connection)
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.history (account_id varchar not null, as_of_date date, "
            "valid_to date, amount decimal(18, 2), note varchar)"
        )
        connection.execute(
            "create view marts.latest as select * from marts.history where valid_to is null"
        )
        for night in range(40):
            connection.execute(
                "update marts.history set valid_to = date '2025-01-01' + ? "
                "where valid_to is null and hash(account_id || ?) % 5 = 0",
                [night, str(night)],
            )
            connection.execute(
                "insert into marts.history select 'A' || i, date '2025-01-01' + ?, null, "
                "(i * 7 % 1000) / 10, md5(i::varchar || ?) from range(?, ? + 3000) t(i)",
                [night, str(night), night * 3000, night * 3000],
            )
            connection.execute("checkpoint")


def _catalog_and_rows(path: Path) -> dict:
    with duckdb.connect(str(path), read_only=True) as connection:
        db = connection.execute("select current_database()").fetchone()[0]
        found = {
            name: sorted(connection.execute(query.format(db=db)).fetchall())
            for name, query in CATALOG.items()
        }
        for schema, name, _ in found["tables"] + found["views"]:
            found[f"{schema}.{name}"] = sorted(
                connection.execute(f'select * from "{schema}"."{name}"').fetchall(),
                key=repr,
            )
    return found


def _record(path: Path, *copies: tuple[int, bool]) -> None:
    """Record earlier nights' copies (working bytes, compacted) in ``path``."""
    with duckdb.connect(str(path)) as connection:
        ensure_schema(connection)
        for bytes_, compacted in copies:
            warehouse.record_working_copy(
                connection, NIGHT, warehouse.WorkingCopy(bytes_, bytes_, compacted, 0.1)
            )


@pytest.fixture(scope="module")
def grown(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("grown") / "warehouse.duckdb"
    _grown_warehouse(path)
    return path


def test_a_warehouse_that_records_no_copy_gets_a_byte_copy(tmp_path, grown):
    working = tmp_path / ".warehouse.duckdb.building"
    copy = warehouse.start_working_copy(grown, working, compact_at=1.2)
    assert copy is not None and not copy.compacted
    assert copy.working_bytes == copy.published_bytes == grown.stat().st_size
    assert _sha(working) == _sha(grown)


def test_the_reference_is_the_first_copy_after_the_last_compaction(tmp_path, grown):
    published = tmp_path / "warehouse.duckdb"
    published.write_bytes(grown.read_bytes())
    _record(published, (1_000, False), (2_000, False))
    assert warehouse.compaction_reference(published) == 1_000
    _record(published, (3_000, True), (4_000, False), (5_000, True))
    # the night built on the last compacted copy has not published yet: no compaction
    assert warehouse.compaction_reference(published) is None
    # what it published (its own working space included) is the reference
    _record(published, (6_000, False), (7_000, False))
    assert warehouse.compaction_reference(published) == 6_000


def test_a_grown_warehouse_is_compacted_with_every_schema_table_view_and_row(tmp_path, grown):
    published = tmp_path / "warehouse.duckdb"
    published.write_bytes(grown.read_bytes())
    # the night after the last compaction published a file a third of today's size
    third = published.stat().st_size // 3
    _record(published, (third, True), (third, False))
    working = tmp_path / ".warehouse.duckdb.building"

    copy = warehouse.start_working_copy(published, working, compact_at=1.2)

    assert copy is not None and copy.compacted
    assert copy.published_bytes == published.stat().st_size
    assert copy.working_bytes == working.stat().st_size
    # the grown file holds far more than its data: 3.0 MiB of 6.0
    assert copy.working_bytes < 0.7 * copy.published_bytes, copy
    assert not working.with_name(working.name + ".wal").exists()
    assert _catalog_and_rows(working) == _catalog_and_rows(published)
    # the copy is an ordinary warehouse: the night's connection opens and writes it
    connection = warehouse.connect(working)
    try:
        assert connection.execute("select count(*) from marts.latest").fetchone()[0] > 0
        warehouse.record_working_copy(connection, NIGHT, copy)
    finally:
        connection.close()


def test_below_the_threshold_or_with_compaction_off_the_copy_is_a_byte_copy(tmp_path, grown):
    published = tmp_path / "warehouse.duckdb"
    published.write_bytes(grown.read_bytes())
    size = published.stat().st_size
    working = tmp_path / ".warehouse.duckdb.building"
    _record(published, (size // 2, True), (size, False))
    for compact_at in (1.2, 0.0):
        copy = warehouse.start_working_copy(published, working, compact_at=compact_at)
        assert copy is not None and not copy.compacted, compact_at
        assert _sha(working) == _sha(published)
    # off: however much the file grew since
    _record(published, (size // 10, True), (size // 10, False))
    copy = warehouse.start_working_copy(published, working, compact_at=0.0)
    assert copy is not None and not copy.compacted


def test_the_first_night_has_nothing_to_copy(tmp_path):
    working = tmp_path / ".warehouse.duckdb.building"
    copy = warehouse.start_working_copy(tmp_path / "warehouse.duckdb", working, compact_at=1.2)
    assert copy is None and not working.exists()


def test_the_setting_is_read_from_the_environment():
    from next_steps.config import Settings

    assert Settings.from_env({}).warehouse_compact_at == 1.2
    assert Settings.from_env({"NEXT_STEPS_WAREHOUSE_COMPACT_AT": "0"}).warehouse_compact_at == 0
    with pytest.raises(ValueError, match="NEXT_STEPS_WAREHOUSE_COMPACT_AT"):
        Settings.from_env({"NEXT_STEPS_WAREHOUSE_COMPACT_AT": "often"})
