"""Files people open in a spreadsheet start no formula (OWASP "CSV Injection"): a text
cell that begins with =, +, -, @, a tab or a carriage return gets a leading ', numbers
stay numbers, and the csv quoting still holds."""

from __future__ import annotations

import csv
import io

import duckdb
import pytest

from next_steps.safe_csv import (
    FORMULA_TRIGGERS,
    neutralise,
    starts_like_formula_sql,
    write_rows,
)

DANGEROUS = [
    '=HYPERLINK("http://x","click")',
    "+SUM(1)",
    "-2+3",
    "@cmd",
    "\tTab",
    "\rReturn",
]
HARMLESS = ["", "Ana", "Ana=Bob", "Jean-Luc", "O'Brien", "a@b", "2-3", "11+"]


def _parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_the_six_leading_characters_are_the_owasp_ones():
    assert FORMULA_TRIGGERS == ("=", "+", "-", "@", "\t", "\r")
    assert [value[0] for value in DANGEROUS] == list(FORMULA_TRIGGERS)


@pytest.mark.parametrize("value", DANGEROUS, ids=repr)
def test_a_cell_that_would_start_a_formula_gets_a_leading_quote(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", [*HARMLESS, None, 0, -12.5], ids=repr)
def test_other_values_are_left_as_they_are(value):
    assert neutralise(value) == value


def test_only_text_columns_are_neutralised_and_quoting_still_holds():
    buffer = io.StringIO()
    rows = [(value, "-12.50", "-3") for value in [*DANGEROUS, *HARMLESS]] + [(None, "", "")]
    write_rows(buffer, ("name", "revenue", "days"), rows, text_columns=("name",))
    parsed = _parse(buffer.getvalue())
    assert parsed[0] == ["name", "revenue", "days"]
    assert [row[0] for row in parsed[1:]] == [
        *("'" + value for value in DANGEROUS),
        *HARMLESS,
        "",
    ]
    # numbers are values, not formulas: a negative amount stays a number
    assert {(row[1], row[2]) for row in parsed[1:-1]} == {("-12.50", "-3")}
    text = buffer.getvalue()
    assert '"\'=HYPERLINK(""http://x"",""click"")"' in text
    # a carriage return is quoted, so the row does not end there; rows end in \n only
    assert '"\'\rReturn"' in text
    assert text.count("\n") == len(rows) + 1 and "\r\n" not in text


def test_a_text_column_must_be_one_of_the_columns():
    with pytest.raises(ValueError, match="not among the columns"):
        write_rows(io.StringIO(), ("a",), [], text_columns=("b",))


def test_the_loader_s_sql_applies_the_same_rule():
    values = [*DANGEROUS, *HARMLESS]
    with duckdb.connect() as connection:
        found = connection.execute(
            f"select {starts_like_formula_sql('value')} from unnest(?) as t(value)", [values]
        ).fetchall()
    assert [hit for (hit,) in found] == [neutralise(value) != value for value in values]
