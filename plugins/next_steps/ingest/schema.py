"""The tables the loader writes, created when missing: ``raw.<file>`` per export file
(typed as the contract says, with ``export_date`` and ``source_line``), ``raw.held_<file>``
for a file whose rows can be held (orders), and the operators' ``ops.load_audit``,
``ops.quarantined_rows`` and ``ops.flagged_rows`` (see :mod:`next_steps.ingest.load`)."""

from __future__ import annotations

from next_steps.ingest.contract import EXPORT_FILES, ExportFileSpec


def _raw_columns_ddl(spec: ExportFileSpec) -> str:
    columns = ["export_date DATE NOT NULL", "source_line BIGINT NOT NULL"]
    columns += [f'"{c.name}" {c.duckdb_type}' for c in spec.columns]
    return ", ".join(columns)


def ensure_schema(connection) -> None:
    connection.execute("create schema if not exists raw")
    connection.execute("create schema if not exists ops")
    for spec in EXPORT_FILES:
        connection.execute(f"create table if not exists raw.{spec.name} ({_raw_columns_ddl(spec)})")
        if spec.held_reason is not None:
            connection.execute(
                f"create table if not exists raw.held_{spec.name} ({_raw_columns_ddl(spec)})"
            )
    connection.execute(
        """
        create table if not exists ops.load_audit (
            export_date DATE NOT NULL,
            file_name VARCHAR NOT NULL,
            rows_read BIGINT NOT NULL,
            rows_loaded BIGINT NOT NULL,
            rows_quarantined BIGINT NOT NULL,
            rows_held BIGINT NOT NULL,
            rows_flagged BIGINT NOT NULL,
            checks_run INTEGER,
            checks_failed INTEGER,
            source_path VARCHAR
        )
        """
    )
    # how each night's working copy was made (next_steps.build.warehouse)
    connection.execute(
        """
        create table if not exists ops.warehouse_copies (
            as_of_date DATE NOT NULL,
            copied_at TIMESTAMP WITH TIME ZONE NOT NULL,
            published_bytes BIGINT NOT NULL,
            working_bytes BIGINT NOT NULL,
            compacted BOOLEAN NOT NULL,
            seconds DOUBLE NOT NULL
        )
        """
    )
    # each build of the seeds: what from (next_steps.build.dbt_build.seeds_fingerprint)
    connection.execute(
        """
        create table if not exists ops.seeds_built (
            fingerprint VARCHAR NOT NULL,
            as_of_date DATE NOT NULL,
            built_at TIMESTAMP WITH TIME ZONE NOT NULL
        )
        """
    )
    connection.execute(
        """
        create table if not exists ops.quarantined_rows (
            export_date DATE NOT NULL,
            file_name VARCHAR NOT NULL,
            line_number BIGINT NOT NULL,
            reason VARCHAR NOT NULL,
            raw_row VARCHAR
        )
        """
    )
    connection.execute(
        """
        create table if not exists ops.flagged_rows (
            export_date DATE NOT NULL,
            file_name VARCHAR NOT NULL,
            line_number BIGINT NOT NULL,
            flag VARCHAR NOT NULL
        )
        """
    )
