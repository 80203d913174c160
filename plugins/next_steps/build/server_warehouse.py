"""Copy the loaded data of a DuckDB warehouse into PostgreSQL, a server warehouse.

The dbt project also builds on PostgreSQL (target ``postgres`` in
``dbt_project/profiles.yml``). Validation and loading stay on DuckDB: a night is
validated and loaded into the DuckDB warehouse as usual, then :func:`copy_schemas` copies
the schema the models read (``raw``, their sources) into the PostgreSQL database, and
``dbt build --target postgres`` builds the same models there.

Every table of the schema gets the DuckDB table's rows, whole, in one transaction: the
server then holds exactly what the DuckDB warehouse holds, including a night re-loaded
there. A table is emptied and refilled, so the views dbt built on it stay; a table whose
columns differ (or that is new) is created again with the DuckDB table's columns and
types (``drop ... cascade``: the next ``dbt build`` builds the views on it again). The
rows go through a CSV file that DuckDB writes into a private temporary folder and
PostgreSQL reads with ``COPY``.

The connection settings are the profile's environment variables (``NEXT_STEPS_PG_*``);
``python -m next_steps.build.server_warehouse`` copies ``NEXT_STEPS_WAREHOUSE`` with them.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from next_steps.ingest.row_rules import quote_identifier

#: The schemas the dbt models read (their sources are in ``raw``; ``ops`` is for operators).
MODEL_SCHEMAS = ("raw",)

#: DuckDB column type -> PostgreSQL column type, for the types the loader writes
#: (spelled as PostgreSQL's ``format_type`` spells them).
POSTGRES_TYPES = {
    "VARCHAR": "text",
    "DATE": "date",
    "TIMESTAMP": "timestamp without time zone",
    "BOOLEAN": "boolean",
    "INTEGER": "integer",
    "BIGINT": "bigint",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def postgres_type(duckdb_type: str) -> str:
    """The PostgreSQL type holding the same values as a DuckDB column type."""
    decimal = _DECIMAL.fullmatch(duckdb_type)
    if decimal:
        return f"numeric({decimal[1]},{decimal[2]})"
    if duckdb_type not in POSTGRES_TYPES:
        raise ValueError(f"No PostgreSQL type for the DuckDB type {duckdb_type}")
    return POSTGRES_TYPES[duckdb_type]


def connect_postgres(env: Mapping[str, str] | None = None):
    """A psycopg2 connection with the settings of the dbt target ``postgres``."""
    import psycopg2

    env = os.environ if env is None else env
    return psycopg2.connect(
        host=env.get("NEXT_STEPS_PG_HOST", "127.0.0.1"),
        port=int(env.get("NEXT_STEPS_PG_PORT", "5432")),
        user=env.get("NEXT_STEPS_PG_USER", "postgres"),
        password=env.get("NEXT_STEPS_PG_PASSWORD", ""),
        dbname=env.get("NEXT_STEPS_PG_DBNAME", "next_steps"),
    )


def copy_schemas(
    warehouse: Path, connection, schemas: tuple[str, ...] = MODEL_SCHEMAS
) -> dict[str, int]:
    """Replace the tables of ``schemas`` in PostgreSQL (``connection``, psycopg2) with
    those of the DuckDB ``warehouse``, in one transaction; returns the rows per table."""
    import duckdb

    copied: dict[str, int] = {}
    source = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = source.execute(
            "select table_schema, table_name, column_name, data_type, is_nullable "
            "from information_schema.columns where table_schema in "
            f"({', '.join('?' for _ in schemas)}) "
            "order by table_schema, table_name, ordinal_position",
            list(schemas),
        ).fetchall()
        tables: dict[str, list[tuple[str, str, bool]]] = {}
        for schema, table, column, data_type, nullable in columns:
            tables.setdefault(f"{quote_identifier(schema)}.{quote_identifier(table)}", []).append(
                (column, postgres_type(data_type), nullable != "YES")
            )
        with tempfile.TemporaryDirectory() as folder, connection.cursor() as cursor:
            for schema in schemas:
                cursor.execute(f"create schema if not exists {quote_identifier(schema)}")
            for table, definition in tables.items():
                cursor.execute(
                    "select attname, format_type(atttypid, atttypmod), attnotnull "
                    "from pg_attribute where attrelid = to_regclass(%s) "
                    "and attnum > 0 and not attisdropped order by attnum",
                    [table],
                )
                if cursor.fetchall() == definition:
                    cursor.execute(f"truncate {table}")
                else:
                    columns_ddl = ", ".join(
                        f"{quote_identifier(name)} {type_}{' not null' if not_null else ''}"
                        for name, type_, not_null in definition
                    )
                    cursor.execute(f"drop table if exists {table} cascade")
                    cursor.execute(f"create table {table} ({columns_ddl})")
                rows = Path(folder) / "rows.csv"
                source.execute(
                    f"copy (select * from {table}) to '{rows}' (format csv, header false)"
                )
                with open(rows, encoding="utf-8") as handle:
                    cursor.copy_expert(f"copy {table} from stdin with (format csv)", handle)
                copied[table] = cursor.rowcount
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        source.close()
    return copied


def main(argv: list[str] | None = None) -> int:
    from next_steps.config import Settings

    parser = argparse.ArgumentParser(
        prog="python -m next_steps.build.server_warehouse",
        description="Copy the raw tables of the DuckDB warehouse into the PostgreSQL "
        "database of the NEXT_STEPS_PG_* settings (the dbt target postgres).",
    )
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB warehouse file")
    args = parser.parse_args(argv)
    warehouse = args.warehouse or Settings.from_env().warehouse
    connection = connect_postgres()
    try:
        for table, rows in copy_schemas(warehouse, connection).items():
            print(f"{table}: {rows} rows")  # noqa: T201
    finally:
        connection.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
