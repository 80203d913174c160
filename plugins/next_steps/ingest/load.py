"""Load a validated night into the working copy of the DuckDB warehouse, one transaction
per night.

Tables written here (created by :mod:`next_steps.ingest.schema`; dbt reads ``raw`` through
sources; ``ops`` is for operators, and :mod:`next_steps.ingest.quarantine` writes
``ops.quarantined_rows`` out as files):

- ``raw.accounts``, ``raw.orders``, ``raw.order_lines``: the export's rows, typed, with
  ``export_date`` and ``source_line``.  Loading night D first deletes night D's rows, so a
  re-run replaces the night and never duplicates it.  The accounts file is a full
  snapshot (``ExportFileSpec.is_snapshot``): ``raw.accounts`` holds only the night loaded
  last, and dbt keeps the history of accounts as changes (``int_accounts_history``).
- ``raw.held_orders``: orders whose account is in no accounts snapshot yet.  They are
  quarantined on their night with a reason that says so, and the dbt models take them in
  on the first night whose accounts snapshot has the account (nothing is moved, so the
  result of a night never depends on the order nights were run in).
- ``ops.load_audit``: per night and file, rows read, loaded, quarantined (of which held).
- ``ops.quarantined_rows``: every row that was not loaded, with its line and reason.
- ``ops.flagged_rows``: rows that were loaded with a warning, one entry per warning: an
  unknown sponsor, a text value that a spreadsheet would read as a formula.

A row is quarantined when its file's suite rejected it (see :mod:`validation`), when a
value does not convert to its type, or when it breaks a rule that needs the night or the
warehouse (declared per file in :mod:`next_steps.ingest.contract`).
An account whose sponsor is not in the snapshot is loaded and flagged; so is any loaded
row with a text value that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return (flag :func:`formula_like_flag`, naming the column).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from next_steps.build.warehouse import has_tables
from next_steps.ingest.contract import ACCOUNTS, ExportFileSpec
from next_steps.ingest.row_rules import quote_identifier, quote_literal
from next_steps.safe_csv import FORMULA_FLAG, starts_like_formula_sql

STAGED_SUFFIX = ".staged.parquet"


@dataclass(frozen=True)
class FileLoad:
    """The counts of one file's load: ``rows_read == rows_loaded + rows_quarantined``."""

    file_name: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_held: int = 0
    rows_flagged: int = 0

    @property
    def quarantine_share(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0


UNKNOWN_SPONSOR_FLAG = "sponsor_id: not an account of this snapshot; account kept, sponsor unknown"


def formula_like_flag(column_name: str) -> str:
    """The flag of a loaded row whose text in ``column_name`` would start a formula in a
    spreadsheet (see :mod:`next_steps.safe_csv`)."""
    return (
        f"{column_name}: {FORMULA_FLAG}: begins with =, +, -, @, a tab or a carriage return "
        "(a spreadsheet would read a formula); loaded as it is, written with a leading ' "
        "in the files people open"
    )


def _csv_field(expression: str) -> str:
    """SQL that renders a text value as one CSV field (quoted when it has to be)."""
    value = f"coalesce({expression}, '')"
    return (
        f"case when regexp_matches({value}, '[,\"\\n\\r]') "
        f"then '\"' || replace({value}, '\"', '\"\"') || '\"' else {value} end"
    )


def _typed(column_name: str, column_type: str) -> tuple[str, str]:
    """(typed value, reason when the text does not convert) for one column."""
    text = f"nullif({quote_identifier(column_name)}, '')"
    if column_type == "text":
        return text, "NULL"
    if column_type == "timestamp":
        value = f"timezone('UTC', try_cast({text} as TIMESTAMPTZ))"
        label = "a valid timestamp"
    elif column_type == "date":
        value = f"try_cast({text} as DATE)"
        label = "a valid date"
    elif column_type == "boolean":
        value = f"try_cast({text} as BOOLEAN)"
        label = "true or false"
    elif column_type == "decimal":
        value = f"try_cast({text} as DECIMAL(18,4))"
        label = "a decimal number that fits DECIMAL(18,4)"
    else:
        value = f"try_cast({text} as INTEGER)"
        label = "a whole number"
    reason = f"case when {text} is not null and {value} is null then '{column_name}: must be {label}' end"
    return value, reason


def _warehouse_rules(spec: ExportFileSpec, night: date, currency: str) -> list[str]:
    """The file's rules that need the night or the warehouse (declared with the contract:
    ``not_after_export_date``, ``known_keys``), as SQL yielding a reason or NULL."""
    d = f"date '{night.isoformat()}'"
    rules = [
        f"case when cast({quote_identifier(column)} as date) > {d} then "
        f"{quote_literal(f'{column}: must not be after the export date {night}')} end"
        for column in spec.not_after_export_date
    ]
    for key in spec.known_keys:
        relation, known_column = key.known_in.split(".")
        column = quote_identifier(key.column)
        reason = key.reason.format(reporting_currency=currency)
        rules.append(
            f"case when {column} is not null and {column} not in "
            f"(select {quote_identifier(known_column)} from {relation}) "
            f"then {quote_literal(reason)} end"
        )
    return rules


def load_file(
    connection,
    spec: ExportFileSpec,
    night: date,
    staged: Path,
    file_name: str,
    source_path: str,
    checks_run: int,
    checks_failed: int,
    currency: str,
) -> FileLoad:
    """Replace night ``night`` of ``raw.<spec.name>`` with the staged rows that pass."""
    typed_parts, reason_parts = [], []
    for column in spec.columns:
        value, reason = _typed(column.name, column.type)
        typed_parts.append((column.name, value))
        reason_parts.append(reason)
    semantic = ", ".join(_warehouse_rules(spec, night, currency))
    # One pass over the staged rows: typed values and the reason a row is not loaded.
    # A row the suite rejected keeps the suite's reasons; the others are checked for
    # values that do not convert and for the rules that need the warehouse.
    connection.execute(
        f"""
        create or replace temp table checked as
        select
            * exclude (suite_reason, cast_reason),
            coalesce(suite_reason, nullif(concat_ws('; ', nullif(cast_reason, ''), {semantic}), ''))
                as reason
        from (
            select
                source_line,
                nullif(reason, '') as suite_reason,
                concat_ws('; ', {", ".join(reason_parts)}) as cast_reason,
                {", ".join(f"{value} as {quote_identifier(name)}" for name, value in typed_parts)}
            from read_parquet(?)
        )
        """,
        [str(staged)],
    )
    columns = ", ".join(quote_identifier(c.name) for c in spec.columns)
    forget_file(connection, spec, night)
    connection.execute(
        f"insert into raw.{spec.name} select ?, source_line, {columns} "
        "from checked where reason is null",
        [night],
    )
    if spec.held_reason is not None:
        connection.execute(
            f"insert into raw.held_{spec.name} select ?, source_line, {columns} "
            "from checked where reason = ? order by source_line",
            [night, spec.held_reason],
        )
    if spec is ACCOUNTS:
        connection.execute(
            "insert into ops.flagged_rows select ?, ?, source_line, ? from checked "
            "where reason is null and sponsor_id is not null and sponsor_id not in "
            "(select account_id from checked where reason is null) order by source_line",
            [night, file_name, UNKNOWN_SPONSOR_FLAG],
        )
    _flag_formula_like_text(connection, spec, night, file_name)
    [(rows_read, rows_loaded, rows_held)] = connection.execute(
        "select count(*), count(*) filter (where reason is null), "
        "count(*) filter (where reason = ?) from checked",
        [spec.held_reason],
    ).fetchall()
    if rows_loaded < rows_read:
        # the rejected rows as they were in the file (malformed rows come with theirs)
        raw_row = " || ',' || ".join(
            _csv_field(f"staged.{quote_identifier(c.name)}") for c in spec.columns
        )
        connection.execute(
            "insert into ops.quarantined_rows select ?, ?, checked.source_line, checked.reason, "
            f"coalesce(staged.raw_row, {raw_row}) "
            "from checked join read_parquet(?) as staged using (source_line) "
            "where checked.reason is not null order by checked.source_line",
            [night, file_name, str(staged)],
        )
    # rows, not flags: a row can carry several flags
    (rows_flagged,) = connection.execute(
        "select count(distinct line_number) from ops.flagged_rows "
        "where export_date = ? and file_name = ?",
        [night, file_name],
    ).fetchone()
    result = FileLoad(
        file_name, rows_read, rows_loaded, rows_read - rows_loaded, rows_held, rows_flagged
    )
    connection.execute(
        "insert into ops.load_audit values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            night,
            file_name,
            result.rows_read,
            result.rows_loaded,
            result.rows_quarantined,
            result.rows_held,
            result.rows_flagged,
            checks_run,
            checks_failed,
            source_path,
        ],
    )
    return result


def _flag_formula_like_text(connection, spec: ExportFileSpec, night: date, file_name: str) -> None:
    """Flag every loaded row once per text column whose value would start a formula.

    One scan finds the (rare) rows; only those are unfolded into one flag per column."""
    text_columns = [column.name for column in spec.columns if column.type == "text"]
    if not text_columns:
        return
    tests = {name: starts_like_formula_sql(quote_identifier(name)) for name in text_columns}
    flags = ", ".join(f"case when {test} then ? end" for test in tests.values())
    connection.execute(
        "insert into ops.flagged_rows select ?, ?, source_line, flag from ("
        f"select source_line, unnest([{flags}]) as flag from checked "
        f"where reason is null and ({' or '.join(tests.values())})"
        ") where flag is not null order by source_line",
        [night, file_name, *(formula_like_flag(name) for name in text_columns)],
    )


def prepare_reference_tables(connection, night: date, rates_csv: Path) -> None:
    """What the semantic rules read: rates, known accounts and orders up to D."""
    connection.execute(
        "create or replace temp table rates as select distinct trim(currency) as currency "
        "from read_csv(?, header = true, all_varchar = true) where rate_to_reporting is not null",
        [str(rates_csv)],
    )
    d = f"date '{night.isoformat()}'"
    # views, not tables: each file's rules see the files loaded before it tonight, and
    # the database joins only the keys a file names instead of copying every key
    connection.execute(
        f"""
        create or replace temp view known_accounts as
        select distinct account_id from raw.accounts
        where export_date = (select max(export_date) from raw.accounts where export_date <= {d})
        """
    )
    connection.execute(
        "create or replace temp view known_orders as "
        f"select order_id from raw.orders where export_date <= {d} "
        f"union all select order_id from raw.held_orders where export_date <= {d}"
    )


def _history_exists(connection, spec: ExportFileSpec) -> bool:
    """Whether dbt keeps the history of this snapshot file (``int_<file>_history``): until
    its first build (a warehouse of release 0.2), every snapshot stays in ``raw``, for
    that build to take in."""
    return has_tables(connection, f"intermediate.int_{spec.name}_history")


def forget_file(connection, spec: ExportFileSpec, night: date) -> None:
    """Remove whatever an earlier run loaded of this file for night D: before a (re)load,
    and when a night has no such file (an optional one)."""
    raw_tables = [spec.name, *([f"held_{spec.name}"] if spec.held_reason is not None else [])]
    for table in raw_tables:
        if spec.is_snapshot and _history_exists(connection, spec):
            # earlier snapshots are in the models' history: a copy per night would
            # make every night keep every account again
            connection.execute(f"delete from raw.{table}")
        else:
            connection.execute(f"delete from raw.{table} where export_date = ?", [night])
    for table in ("ops.quarantined_rows", "ops.flagged_rows", "ops.load_audit"):
        connection.execute(
            f"delete from {table} where export_date = ? and file_name like ?",
            [night, f"{spec.name}.csv%"],
        )
