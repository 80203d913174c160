"""The row rules of a Great Expectations suite, compiled to one DuckDB query.

The suites in ``expectations/`` are the one place the export's row rules are written.
Great Expectations on a pandas copy of ten million rows takes minutes and gigabytes, so
the row-level expectations are translated here into SQL that DuckDB runs over every row,
with the same meaning Great Expectations gives them on a frame of text values:

- ``expect_column_values_to_match_regex`` / ``..._not_match_regex``: Python's
  ``re.search`` on the text.  DuckDB's RE2 decides values of printable ASCII (where the
  two engines agree for the constructs the suites use); any other value (accents, control
  characters, a trailing newline) is decided by Python's ``re`` itself.
- ``expect_column_values_to_be_in_set``: exact text in the set.
- ``expect_column_values_to_match_strftime_format``: ``datetime.strptime`` succeeds.
  Values shaped exactly like the format in ASCII digits are parsed by DuckDB's
  ``strptime``; any other value by Python's ``datetime.strptime``.
- ``expect_column_values_to_be_unique`` / ``expect_compound_columns_to_be_unique``:
  every row whose value (or combination) appears more than once fails, as in pandas'
  ``duplicated(keep=False)``.

Empty fields are the empty text, as Great Expectations sees them in the frame.  Table
level expectations (the columns) are checked when the header is read.  The validation
step runs Great Expectations itself on a sample and fails if the two ever disagree
(see :mod:`next_steps.ingest.validation`), so a translation error cannot go unnoticed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

#: Expectations about the whole table: the header check covers them.
TABLE_LEVEL = frozenset(
    {
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
    }
)
VALUE_RULES = frozenset(
    {
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_match_strftime_format",
    }
)
UNIQUE_RULES = frozenset(
    {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
)
#: strftime directives whose ASCII shape DuckDB's ``strptime`` parses as Python does.
_FAST_DIRECTIVES = {"%Y": "[0-9]{4}", "%m": "[0-9]{2}", "%d": "[0-9]{2}"}


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text(column: str, table: str) -> str:
    return f"coalesce({table}.{quote_identifier(column)}, '')"


@dataclass(frozen=True)
class RowRule:
    """One row-level expectation of a suite."""

    position: int
    expectation: str
    columns: tuple[str, ...]
    #: The suite's ``meta.rule``: what a quarantined row's reason says.
    rule: str
    kwargs: dict[str, Any]

    @property
    def column_label(self) -> str:
        return ", ".join(self.columns)

    @property
    def reason(self) -> str:
        return f"{self.column_label}: {self.rule}"

    @property
    def flag(self) -> str:
        return f"rule_{self.position}"

    @property
    def duplicates_table(self) -> str:
        return f"duplicates_{self.position}"


def columns_of(kwargs: dict[str, Any]) -> tuple[str, ...]:
    if "column" in kwargs:
        return (str(kwargs["column"]),)
    return tuple(kwargs.get("column_list", ()))


def compile_suite(suite: dict[str, Any], file_name: str) -> list[RowRule]:
    """The suite's row rules, in suite order; fails on an expectation with no translation."""
    rules = []
    for position, item in enumerate(suite["expectations"]):
        expectation = item["type"]
        if expectation in TABLE_LEVEL:
            continue
        if expectation not in VALUE_RULES | UNIQUE_RULES:
            raise ValueError(
                f"Suite {suite.get('name')} ({file_name}): {expectation} has no SQL "
                "translation in next_steps.ingest.row_rules; add one or remove the expectation."
            )
        kwargs = dict(item["kwargs"])
        unsupported = set(kwargs) - {
            "column",
            "column_list",
            "regex",
            "value_set",
            "strftime_format",
        }
        if unsupported:
            raise ValueError(
                f"Suite {suite.get('name')} ({file_name}): {expectation} uses "
                f"{', '.join(sorted(unsupported))}, which the SQL row checks do not support."
            )
        rules.append(
            RowRule(
                position=position,
                expectation=expectation,
                columns=columns_of(kwargs),
                rule=item.get("meta", {}).get("rule", expectation),
                kwargs=kwargs,
            )
        )
    return rules


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def python_regex_search(value: str, pattern: str) -> bool:
    return _compiled(pattern).search(value) is not None


def python_strptime_ok(value: str, strftime_format: str) -> bool:
    try:
        datetime.strptime(value, strftime_format)
    except ValueError:
        return False
    return True


def register_functions(connection) -> None:
    """The Python functions the compiled SQL falls back on for unusual values."""
    for name, function in (
        ("python_regex_search", python_regex_search),
        ("python_strptime_ok", python_strptime_ok),
    ):
        [(registered,)] = connection.execute(
            "select count(*) from duckdb_functions() where function_name = ?", [name]
        ).fetchall()
        if not registered:
            connection.create_function(
                name, function, ["VARCHAR", "VARCHAR"], "BOOLEAN", side_effects=False
            )


def _plain(value: str) -> str:
    """SQL: the text is printable ASCII (tab allowed), where RE2 and Python's re agree."""
    return (
        f"(strlen({value}) = length({value}) "
        f"and not regexp_matches({value}, '[\\x00-\\x08\\x0a-\\x1f\\x7f]'))"
    )


def _fast_strftime_shape(strftime_format: str) -> str | None:
    """A regex for values DuckDB's strptime parses exactly as Python does, or None."""
    parts, rest = [], strftime_format
    while rest:
        if rest.startswith("%"):
            directive = rest[:2]
            if directive not in _FAST_DIRECTIVES:
                return None
            parts.append(_FAST_DIRECTIVES[directive])
            rest = rest[2:]
        else:
            parts.append(re.escape(rest[0]))
            rest = rest[1:]
    return "".join(parts)


def _value_failure(rule: RowRule, table: str) -> str:
    """SQL true when the row of ``table`` breaks ``rule`` (one of VALUE_RULES)."""
    (column,) = rule.columns
    value = _text(column, table)
    if rule.expectation == "expect_column_values_to_be_in_set":
        values = ", ".join(quote_literal(str(v)) for v in rule.kwargs["value_set"])
        return f"{value} not in ({values})" if values else "true"
    if rule.expectation == "expect_column_values_to_match_strftime_format":
        fmt = rule.kwargs["strftime_format"]
        python = f"python_strptime_ok({value}, {quote_literal(fmt)})"
        shape = _fast_strftime_shape(fmt)
        if shape is None:
            return f"not {python}"
        # Python rejects year 0, which DuckDB accepts.
        parsed = f"try_strptime({value}, {quote_literal(fmt)})"
        fast = f"coalesce(year({parsed}) >= 1, false)"
        return (
            f"not (case when regexp_full_match({value}, {quote_literal(shape)}) "
            f"then {fast} else {python} end)"
        )
    pattern = quote_literal(rule.kwargs["regex"])
    found = (
        f"(case when {table}.plain_row then regexp_matches({value}, {pattern}) "
        f"else python_regex_search({value}, {pattern}) end)"
    )
    if rule.expectation == "expect_column_values_to_match_regex":
        return f"not {found}"
    return found


def failures_sql(
    rules: list[RowRule], table: str, printable_ascii: bool = False
) -> tuple[list[str], str]:
    """(statements that find duplicates, a query of the rows of ``table`` breaking a rule).

    The query returns ``source_line``, one boolean per rule (``rule_<position>``) and
    ``reason`` (the broken rules' reasons, ``; ``-separated, in suite order); rows that
    break nothing are left out.  ``printable_ascii``: every value of the table is known
    to be printable ASCII (the file's bytes were), so no row needs the check.
    """
    setup, joins, flags = [], [], []
    for rule in rules:
        if rule.expectation in UNIQUE_RULES:
            keys = ", ".join(f"{_text(c, table)} as key_{i}" for i, c in enumerate(rule.columns))
            setup.append(
                f"create or replace temp table {rule.duplicates_table} as "
                f"select {keys}, true as duplicated from {table} "
                "group by all having count(*) > 1"
            )
            on = " and ".join(
                f"{_text(c, table)} = {rule.duplicates_table}.key_{i}"
                for i, c in enumerate(rule.columns)
            )
            joins.append(f"left join {rule.duplicates_table} on {on}")
            flags.append(f"coalesce({rule.duplicates_table}.duplicated, false) as {rule.flag}")
        else:
            flags.append(f"{_value_failure(rule, table)} as {rule.flag}")
    reasons = ", ".join(
        f"case when {rule.flag} then {quote_literal(rule.reason)} end" for rule in rules
    )
    any_flag = " or ".join(rule.flag for rule in rules) or "false"
    # whether RE2 may decide the row's regex rules: once per row, not once per rule
    regex_columns = sorted(
        {c for rule in rules if "regex" in rule.expectation for c in rule.columns}
    )
    plain = _plain(f"concat_ws(chr(9), {', '.join(_text(c, table) for c in regex_columns)})")
    query = f"""
        select source_line, {", ".join(rule.flag for rule in rules) or "null as no_rule"},
               concat_ws('; ', {reasons or "null"}) as reason
        from (
            select {table}.source_line, {", ".join(flags) or "null as no_rule"}
            from (
                select *, {plain if regex_columns and not printable_ascii else "true"}
                    as plain_row
                from {table}
            ) as {table}
            {" ".join(joins)}
        )
        where {any_flag}
    """
    return setup, query
