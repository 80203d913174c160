"""Validate an export file with its Great Expectations suite (``expectations/<file>.json``).

Each file is validated as a pandas frame of text values indexed by line number.  A
failed table-level expectation (the columns) fails the night; a failed column-level
expectation marks the rows it names, and those rows are quarantined with the column and
the rule (the expectation's ``meta.rule``) as the reason.  Everything else loads.

Great Expectations runs in an ephemeral context: the suites are the committed JSON files,
and each night's results are written as JSON next to the night's other run results.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from next_steps.errors import ExportFileError
from next_steps.exports import ParsedFile

#: Expectations about the whole table: failing one fails the file, not a row.
TABLE_LEVEL = frozenset(
    {
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_row_count_to_be_between",
    }
)


@dataclass
class FileValidation:
    """What the suite said about one file."""

    file_name: str
    rows_checked: int
    #: line number -> reasons (``"<column>: <rule>"``) the row fails.
    reasons: dict[int, list[str]] = field(default_factory=dict)
    #: One entry per expectation: type, column(s), success, unexpected_count.
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def checks_failed(self) -> int:
        return sum(1 for check in self.checks if not check["success"])


def load_suite_json(expectations_dir: Path, suite_name: str) -> dict[str, Any]:
    path = expectations_dir / f"{suite_name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"Expectation suite {path} does not exist.")
    return json.loads(path.read_text(encoding="utf-8"))


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
    context = _context()
    source = context.data_sources.add_pandas(f"export_{file_name}")
    asset = source.add_dataframe_asset(file_name)
    return asset.add_batch_definition_whole_dataframe("whole_file")


def _columns_of(kwargs: dict[str, Any]) -> str:
    if "column" in kwargs:
        return str(kwargs["column"])
    return ", ".join(kwargs.get("column_list", [])) or "table"


def validate_file(
    parsed: ParsedFile, expectations_dir: Path, result_path: Path | None = None
) -> FileValidation:
    """Run the file's suite; return the rows it rejects and a summary of every check."""
    import great_expectations as gx
    import pandas as pd

    suite_json = load_suite_json(expectations_dir, parsed.spec.suite_name)
    rules = {
        (item["type"], _columns_of(item["kwargs"])): item.get("meta", {}).get("rule", item["type"])
        for item in suite_json["expectations"]
    }
    frame = pd.DataFrame(
        parsed.values, index=pd.Index(parsed.lines, name="source_line"), dtype="object"
    )
    suite = gx.ExpectationSuite(**suite_json)
    batch = _batch_definition(parsed.spec.name).get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})

    validation = FileValidation(file_name=parsed.path.name, rows_checked=len(frame))
    reasons: dict[int, list[str]] = defaultdict(list)
    for item in result.results:
        config = item.expectation_config
        columns = _columns_of(config.kwargs)
        rule = rules.get((config.type, columns), config.type)
        if item.exception_info and item.exception_info.get("raised_exception"):
            raise ExportFileError(
                f"{parsed.path}: check '{config.type}' on {columns} could not run: "
                f"{item.exception_info.get('exception_message')}"
            )
        unexpected = item.result.get("unexpected_index_list") or []
        validation.checks.append(
            {
                "expectation": config.type,
                "column": columns,
                "rule": rule,
                "success": bool(item.success),
                "unexpected_count": item.result.get("unexpected_count", 0) or 0,
            }
        )
        if item.success:
            continue
        if config.type in TABLE_LEVEL:
            raise ExportFileError(
                f"{parsed.path}: {rule} (observed: {item.result.get('observed_value')})."
            )
        for entry in unexpected:
            line = int(entry["source_line"] if isinstance(entry, dict) else entry)
            reasons[line].append(f"{columns}: {rule}")
    validation.reasons = dict(reasons)
    if result_path is not None:
        result_path.parent.mkdir(parents=True, exist_ok=True)
        result_path.write_text(
            json.dumps(result.describe_dict(), indent=2, default=str), encoding="utf-8"
        )
    return validation
