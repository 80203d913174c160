"""The suites' row rules run as SQL in DuckDB: they must judge every value exactly as
Great Expectations does on a pandas frame of text, and DuckDB's fast CSV reader must give
every row the line Python's csv module gives it."""

from __future__ import annotations

import gzip
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from next_steps.errors import ChecksDisagree
from next_steps.ingest import row_rules, validation
from next_steps.ingest.contract import ACCOUNTS, EXPORT_FILES, ORDERS, load_suite_json
from next_steps.ingest.exports import read_export_file, read_into_duckdb

from conftest import account, order, write_csv

EXPECTATIONS = Path(__file__).resolve().parents[1] / "expectations"
#: Each suite's value rules (the flags of one query are named by position in its suite).
SUITE_VALUE_RULES = {
    spec.name: [
        rule
        for rule in row_rules.compile_suite(
            load_suite_json(EXPECTATIONS, spec.suite_name), spec.name
        )
        if rule.expectation in row_rules.VALUE_RULES
    ]
    for spec in EXPORT_FILES
}
VALUE_RULES = [rule for rules in SUITE_VALUE_RULES.values() for rule in rules]


def python_says_unexpected(rule: row_rules.RowRule, value: str) -> bool:
    """What Great Expectations' pandas metric computes for one text value."""
    if rule.expectation == "expect_column_values_to_be_in_set":
        return value not in rule.kwargs["value_set"]
    if rule.expectation == "expect_column_values_to_match_strftime_format":
        try:
            datetime.strptime(value, rule.kwargs["strftime_format"])
        except ValueError:
            return True
        return False
    found = re.search(rule.kwargs["regex"], value) is not None
    return not found if rule.expectation == "expect_column_values_to_match_regex" else found


def sql_says_unexpected(rules: list[row_rules.RowRule], values: list[str]) -> list[list[bool]]:
    """Per rule, whether the compiled SQL fails each value (every column holds ``values``)."""
    columns = sorted({rule.columns[0] for rule in rules})
    with duckdb.connect() as connection:
        row_rules.register_functions(connection)
        connection.execute(
            f"create table t (source_line bigint, {', '.join(f'{c} varchar' for c in columns)})"
        )
        connection.executemany(
            f"insert into t values (?{', ?' * len(columns)})",
            [(i, *[v] * len(columns)) for i, v in enumerate(values, start=2)],
        )
        _, query = row_rules.failures_sql(rules, "t")
        flags = {line: flags for line, *flags in connection.execute(query).fetchall()}
    no_failure = [False] * (len(rules) + 1)  # the flags and the reason
    by_line = [flags.get(i, no_failure)[:-1] for i in range(2, len(values) + 2)]
    return [[bool(line[r]) for line in by_line] for r in range(len(rules))]


# Values near the rules' edges, plus anything hypothesis comes up with: accents, other
# scripts' digits and spaces, control characters, a trailing newline.
EDGE_VALUES = [
    "",
    " ",
    "\xa0",
    "\x0b",
    "\x1c",
    "US",
    "us",
    "USD\n",
    "2025-06-30",
    "2025-6-3",
    "2025-06- 3",
    " 2025-06-30",
    "2025-06-30 ",
    "0000-01-01",
    "2025-02-29",
    "2024-02-29",
    "٢٠٢٥-06-30",
    "2025-06-30T10:00:00Z",
    "2025-06-30T10:00:00Z\n",
    "2025-06-30 10:00",
    "10.50",
    " -0.01",
    "１２",
    "007",
    "0",
    "en",
    "pt-BR",
    "true",
    "True",
]


@pytest.mark.parametrize("rule", VALUE_RULES, ids=lambda rule: rule.reason)
def test_sql_rule_agrees_with_python_on_edge_values(rule):
    expected = [python_says_unexpected(rule, value) for value in EDGE_VALUES]
    assert sql_says_unexpected([rule], EDGE_VALUES) == [expected]


@hypothesis_settings(max_examples=100, deadline=None)
@given(values=st.lists(st.text(max_size=30), min_size=1, max_size=40))
def test_sql_rules_agree_with_python_on_any_text(values):
    for rules in SUITE_VALUE_RULES.values():
        by_sql = sql_says_unexpected(rules, values)
        for rule, sql in zip(rules, by_sql, strict=True):
            assert sql == [python_says_unexpected(rule, value) for value in values], rule.reason


def test_duplicates_fail_every_row_that_shares_the_key():
    (rule,) = [
        r
        for r in row_rules.compile_suite(load_suite_json(EXPECTATIONS, "orders"), "orders")
        if r.expectation == "expect_compound_columns_to_be_unique"
    ]
    rows = [("O1", "t1"), ("O1", "t2"), ("O1", "t1"), ("", ""), ("", ""), ("O2", "t1")]
    with duckdb.connect() as connection:
        connection.execute(
            "create table t (source_line bigint, order_id varchar, updated_at varchar)"
        )
        connection.executemany(
            "insert into t values (?, ?, ?)", [(i, *row) for i, row in enumerate(rows, start=2)]
        )
        setup, query = row_rules.failures_sql([rule], "t")
        for statement in setup:
            connection.execute(statement)
        failing = sorted(line for line, *_ in connection.execute(query).fetchall())
    assert failing == [2, 4, 5, 6]


def test_an_expectation_without_translation_is_refused():
    suite = {
        "name": "orders",
        "expectations": [
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "volume"}}
        ],
    }
    with pytest.raises(ValueError, match="expect_column_values_to_be_between has no SQL"):
        row_rules.compile_suite(suite, "orders.csv")


def _rows(connection, table: str, spec) -> list[tuple]:
    columns = ", ".join(f'"{name}"' for name in spec.column_names)
    return connection.execute(f"select source_line, {columns} from {table} order by 1").fetchall()


def test_duckdb_reader_gives_every_row_its_line_in_a_large_file(tmp_path):
    # more rows than one of DuckDB's row groups and CSV buffers, read in parallel
    orders = [
        order(f"O{i}", f"A{i % 977}", f"2025-0{1 + i % 6}-1{i % 10}T10:00:00Z", volume=str(i))
        for i in range(300_000)
    ]
    path = write_csv(tmp_path / "orders.csv", ORDERS.column_names, orders)
    with duckdb.connect() as connection:
        read = read_into_duckdb(connection, path, ORDERS, "t")
        assert read.reader == "duckdb"
        rows = _rows(connection, "t", ORDERS)
    parsed = read_export_file(path, ORDERS)
    expected = list(
        zip(parsed.lines, *(parsed.values[name] for name in ORDERS.column_names), strict=True)
    )
    assert rows == expected


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text.replace("Ann", '"An\nn"', 1),  # a quoted line break
        lambda text: text.replace("\n", "\n\n", 2),  # a blank line
        lambda text: text.replace("\n", ",surplus\n", 3).replace(",surplus", "", 2),  # wide row
        lambda text: text.replace("\n", "\r", 1),  # an old Mac line end
    ],
    ids=["quoted line break", "blank line", "row with a field too many", "lone CR"],
)
def test_a_file_that_is_not_one_row_per_line_is_read_by_the_exact_reader(tmp_path, damage):
    path = write_csv(
        tmp_path / "accounts.csv",
        ACCOUNTS.column_names,
        [account(f"A{i}", first_name="Ann") for i in range(50)],
    )
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    with duckdb.connect() as connection:
        read = read_into_duckdb(connection, path, ACCOUNTS, "t")
        rows = _rows(connection, "t", ACCOUNTS)
    parsed = read_export_file(path, ACCOUNTS)
    assert read.reader == "python"
    assert read.malformed == parsed.malformed
    assert [row[0] for row in rows] == parsed.lines


def test_validation_fails_when_sql_and_great_expectations_disagree(tmp_path, monkeypatch):
    path = write_csv(
        tmp_path / "accounts.csv",
        ACCOUNTS.column_names,
        [account("A1"), account("A2", country="USA")],
    )
    # a broken translation: the SQL lets every value pass
    monkeypatch.setattr(row_rules, "_value_failure", lambda rule, table: "false")
    with (
        duckdb.connect() as connection,
        pytest.raises(ChecksDisagree, match=r"line 3 'country: .*' only by Great"),
    ):
        validation.validate_file(
            connection, path, ACCOUNTS, EXPECTATIONS, tmp_path / "staged.parquet"
        )


def test_a_value_outside_printable_ascii_is_judged_as_python_judges_it(tmp_path):
    # a no-break space is whitespace to Python's re, not to RE2: "must not be empty"
    path = write_csv(
        tmp_path / "accounts.csv",
        ACCOUNTS.column_names,
        [account("A1", first_name="Zoë"), account("\xa0")],
    )
    staged = tmp_path / "staged.parquet"
    with duckdb.connect() as connection:
        result = validation.validate_file(connection, path, ACCOUNTS, EXPECTATIONS, staged)
        reasons = connection.execute(
            "select source_line, reason from read_parquet(?) order by 1", [str(staged)]
        ).fetchall()
    assert result.reader == "duckdb"
    assert reasons == [(2, None), (3, "account_id: must not be empty")]


def test_a_gzip_file_is_read_by_duckdb_with_its_lines(tmp_path):
    path = write_csv(
        tmp_path / "orders.csv",
        ORDERS.column_names,
        [order(f"O{i}", "A1", "2025-06-01T10:00:00Z") for i in range(1_000)],
    )
    packed = tmp_path / "orders.csv.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    with duckdb.connect() as connection:
        read = read_into_duckdb(connection, packed, ORDERS, "t")
        rows = _rows(connection, "t", ORDERS)
    parsed = read_export_file(path, ORDERS)
    assert read.reader == "duckdb"
    assert rows == list(
        zip(parsed.lines, *(parsed.values[name] for name in ORDERS.column_names), strict=True)
    )
