"""Validate an export file against its Great Expectations suite (``expectations/<file>.json``).

The suite is the one statement of the file's rules.  It is applied in two ways:

- every row: the suite's row-level expectations are compiled to DuckDB SQL
  (:mod:`next_steps.ingest.row_rules`) and run over the whole file read into DuckDB, so ten
  million rows take seconds, not minutes and gigabytes.  A row that breaks a rule is
  staged with the column and the rule (the expectation's ``meta.rule``) as its reason;
  everything else loads.  A failed table-level expectation (the columns) fails the night.
- a sample, by Great Expectations itself: the file's first rows and its first rejected
  rows (``SAMPLE_ROWS`` of each).  The validation fails with :class:`ChecksDisagree`
  if Great Expectations and the SQL judge any row of the sample differently.  A file no
  longer than the sample is checked by both in full.

Each night's results are written as JSON next to the night's other run results: the
counts of every check over all rows, and Great Expectations' result for the sample.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from next_steps.errors import ChecksDisagree, ExportFileError
from next_steps.ingest.contract import ExportFileSpec, load_suite_json
from next_steps.ingest.exports import drop_rows, read_into_duckdb
from next_steps.ingest.row_rules import (
    TABLE_LEVEL,
    RowRule,
    columns_of,
    compile_suite,
    failures_sql,
    quote_identifier,
    register_functions,
)
from next_steps.private_files import write_private_json

#: Rows of each kind (first rows of the file, first rejected rows) Great Expectations
#: checks itself, to prove the SQL translation of the suite right on every night.
SAMPLE_ROWS = 2_000


@dataclass
class FileValidation:
    """What the suite said about one file."""

    file_name: str
    rows_read: int
    rows_rejected: int
    #: ``duckdb`` (one row per line, read in parallel) or ``python`` (the exact reader).
    reader: str
    #: One entry per expectation: type, column(s), rule, success, unexpected_count.
    checks: list[dict[str, Any]] = field(default_factory=list)
    sample_rows: int = 0

    @property
    def checks_failed(self) -> int:
        return sum(1 for check in self.checks if not check["success"])


@cache
def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@cache
def _batch_definition(file_name: str):
    source = _context().data_sources.add_pandas(f"export_{file_name}")
    asset = source.add_dataframe_asset(file_name)
    return asset.add_batch_definition_whole_dataframe("whole_file")


def validate_file(
    connection,
    path: Path,
    spec: ExportFileSpec,
    expectations_dir: Path,
    staged: Path,
    result_path: Path | None = None,
) -> FileValidation:
    """Read ``path``, check every row, stage the rows with their reasons for loading.

    ``staged`` gets a Parquet file of ``source_line``, the contract's columns as text,
    ``reason`` (NULL for a row that passed) and ``raw_row`` (for malformed rows).
    """
    suite = load_suite_json(expectations_dir, spec.suite_name)
    rules = compile_suite(suite, path.name)
    register_functions(connection)
    table = f"rows_{spec.name}"
    read = read_into_duckdb(connection, path, spec, table)
    # every row carries its line from here on: the order rows are written in is free
    connection.execute("set preserve_insertion_order = false")

    setup, query = failures_sql(rules, table, printable_ascii=read.printable_ascii)
    for statement in setup:
        connection.execute(statement)
    connection.execute(f"create or replace table failures_{spec.name} as {query}")
    # rows rejected, then the rows each rule rejects
    [(rejected, *counts)] = connection.execute(
        f"select count(*){''.join(f', count(*) filter (where {r.flag})' for r in rules)} "
        f"from failures_{spec.name}"
    ).fetchall()
    unexpected = {rule.position: int(n) for rule, n in zip(rules, counts, strict=True)}

    sample = _audit_sample(connection, table, spec, suite, rules)

    validation = FileValidation(
        file_name=path.name,
        rows_read=read.rows_read,
        rows_rejected=int(rejected) + len(read.malformed),
        reader=read.reader,
        sample_rows=sample["rows"],
    )
    for position, item in enumerate(suite["expectations"]):
        count = unexpected.get(position, 0)
        validation.checks.append(
            {
                "expectation": item["type"],
                "column": ", ".join(columns_of(item["kwargs"])) or "table",
                "rule": item.get("meta", {}).get("rule", item["type"]),
                "success": count == 0,
                "unexpected_count": count,
            }
        )
    _stage(connection, table, spec, read.malformed, staged)
    drop_rows(connection, table)
    for statement in (
        f"drop table failures_{spec.name}",
        *(f"drop table if exists {rule.duplicates_table}" for rule in rules),
    ):
        connection.execute(statement)
    if result_path is not None:
        write_private_json(
            result_path,
            {
                "file": path.name,
                "suite": suite.get("name", spec.suite_name),
                "success": validation.checks_failed == 0,
                "rows_read": validation.rows_read,
                "rows_rejected": validation.rows_rejected,
                "rows_malformed": len(read.malformed),
                "reader": read.reader,
                "checks": validation.checks,
                "great_expectations_sample": sample,
            },
        )
    return validation


#: What a Great Expectations result says about single values (they can be names and
#: e-mail addresses); the saved results and the data docs keep the counts only.
VALUE_KEYS = frozenset(
    {
        "partial_unexpected_list",
        "partial_unexpected_counts",
        "partial_unexpected_index_list",
        "unexpected_list",
        "unexpected_index_list",
        "unexpected_index_query",
        "unexpected_rows",
    }
)


def without_values(result: dict[str, Any]) -> dict[str, Any]:
    """A suite's validation result (``to_json_dict()``) with counts but no values."""
    return {
        **result,
        "results": [
            {
                **item,
                "result": {
                    k: v for k, v in (item.get("result") or {}).items() if k not in VALUE_KEYS
                },
            }
            for item in result["results"]
        ],
    }


def _stage(
    connection, table: str, spec: ExportFileSpec, malformed: list[tuple], staged: Path
) -> None:
    columns = ", ".join(f"{table}.{quote_identifier(name)}" for name in spec.column_names)
    nulls = ", ".join(f"null::varchar as {quote_identifier(n)}" for n in spec.column_names)
    connection.execute(
        "create or replace table malformed (source_line bigint, reason varchar, raw_row varchar)"
    )
    if malformed:
        connection.executemany(
            "insert into malformed values (?, ?, ?)",
            [(line, reason, raw) for line, raw, reason in malformed],
        )
    staged.parent.mkdir(parents=True, exist_ok=True)
    connection.execute(
        f"""
        copy (
            select {table}.source_line, {columns}, failures.reason, null::varchar as raw_row
            from {table} left join failures_{spec.name} as failures using (source_line)
            union all
            select source_line, {nulls}, reason, raw_row from malformed
        ) to ? (format parquet)
        """,
        [str(staged)],
    )
    connection.execute("drop table malformed")


def _audit_sample(
    connection, table: str, spec: ExportFileSpec, suite: dict[str, Any], rules: list[RowRule]
) -> dict[str, Any]:
    """Run Great Expectations on a sample and compare it with the SQL, row by row."""
    import pandas as pd

    _context()  # first: it switches GX's usage analytics off before GX is imported
    import great_expectations as gx

    connection.execute(
        f"""
        create or replace table sample_{spec.name} as
        select * from {table} where source_line in (
            (select source_line from {table} order by source_line limit {SAMPLE_ROWS})
            union
            (select source_line from failures_{spec.name} order by source_line limit {SAMPLE_ROWS})
        )
        order by source_line
        """
    )
    names = ["source_line", *spec.column_names]
    rows = connection.execute(
        f"select {', '.join(quote_identifier(n) for n in names)} from sample_{spec.name} "
        "order by source_line"
    ).fetchall()
    frame = pd.DataFrame(
        {name: [row[i + 1] for row in rows] for i, name in enumerate(spec.column_names)},
        index=pd.Index([row[0] for row in rows], name="source_line"),
        dtype="object",
    )
    gx_suite = gx.ExpectationSuite(**suite)
    batch = _batch_definition(spec.name).get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(gx_suite, result_format={"result_format": "COMPLETE"})

    by_great_expectations: set[tuple[int, str]] = set()
    for item in result.results:
        config = item.expectation_config
        label = ", ".join(columns_of(config.kwargs)) or "table"
        if item.exception_info and item.exception_info.get("raised_exception"):
            raise ExportFileError(
                f"{spec.name}: check '{config.type}' on {label} could not run: "
                f"{item.exception_info.get('exception_message')}"
            )
        if item.success:
            continue
        if config.type in TABLE_LEVEL:
            raise ExportFileError(
                f"{spec.name}: {config.meta.get('rule', config.type) if config.meta else config.type}"
                f" (observed: {item.result.get('observed_value')})."
            )
        rule = next(r for r in rules if r.expectation == config.type and r.column_label == label)
        for entry in item.result.get("unexpected_index_list") or []:
            line = int(entry["source_line"] if isinstance(entry, dict) else entry)
            by_great_expectations.add((line, rule.reason))

    setup, query = failures_sql(rules, f"sample_{spec.name}")
    for statement in setup:
        connection.execute(statement)
    by_sql = {
        (int(line), rule.reason)
        for line, *flags in connection.execute(
            f"select source_line, {', '.join(r.flag for r in rules) or 'null'} from ({query})"
        ).fetchall()
        for rule, flagged in zip(rules, flags)
        if flagged
    }
    connection.execute(f"drop table sample_{spec.name}")
    if by_sql != by_great_expectations:
        differences = sorted(by_sql ^ by_great_expectations)[:10]
        raise ChecksDisagree(
            f"{spec.name}: Great Expectations and the SQL row checks disagree on "
            f"{len(by_sql ^ by_great_expectations)} (line, rule) pair(s) of the sample, e.g. "
            + "; ".join(
                f"line {line} '{reason}' "
                + ("only by SQL" if (line, reason) in by_sql else "only by Great Expectations")
                for line, reason in differences
            )
            + ". Fix next_steps/ingest/row_rules.py."
        )
    return {
        "rows": len(rows),
        "how": f"the first {SAMPLE_ROWS:,} rows and the first {SAMPLE_ROWS:,} rejected rows",
        "agrees_with_sql": True,
        # the whole result without values: the data docs are built from it (next_steps.publish.docs)
        "result": without_values(result.to_json_dict()),
    }
