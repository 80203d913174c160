"""Files people open in a spreadsheet start no formula (OWASP "CSV Injection"): a text
cell that begins with =, +, -, @, a tab or a carriage return gets a leading ', numbers
stay numbers, and the csv quoting still holds."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date

import duckdb
import pytest

from next_steps import nightly
from next_steps.ingest.contract import ACCOUNTS
from next_steps.ingest.load import formula_like_flag
from next_steps.publish import outreach
from next_steps.safe_csv import (
    FORMULA_TRIGGERS,
    neutralise,
    starts_like_formula_sql,
    write_rows,
)

from conftest import account, holdout_bucket, order, write_export

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


NIGHT = date(2025, 6, 30)
SPONSOR_NAME = "@sponsor"


def _listed_ids(count: int) -> list[str]:
    """Account ids outside the second_order holdout, so that all of them are listed."""
    ids = (f"F{number}" for number in range(1000))
    return [i for i in ids if holdout_bucket(i, "second_order") >= 10][:count]


@pytest.mark.slow
def test_a_night_writes_files_that_start_no_formula(settings):
    """A whole night (load, dbt, files) of an export whose names would be formulas."""
    names = [*DANGEROUS, "Ana", "Ana=Bob", ""]
    ids = _listed_ids(len(names) + 1)
    accounts = [
        account("D1", account_type="distributor", first_name=SPONSOR_NAME, rank="1"),
        *(
            account(i, first_name=name, sponsor_id="D1", email=f"{i.lower()}@example.com")
            for i, name in zip(ids, names, strict=False)
        ),
        # a valid address may begin with - or +: it is text too
        account(ids[-1], first_name="Bo", sponsor_id="D1", email="-bo@example.com"),
        # quarantined (unknown account type); its raw row begins with @
        account("@evil", account_type="vip"),
    ]
    orders = [order(f"O{n}", i, "2025-06-20T10:00:00Z") for n, i in enumerate(ids)]
    orders.append(order("=O99", ids[0], "2025-06-20T10:00:00Z", status="shipped"))
    folder = write_export(settings.export_folder(NIGHT), accounts, orders)
    # quote every cell, as an export with a carriage return in a name must
    with open(folder / "accounts.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ACCOUNTS.column_names, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(accounts)
    lenient = replace(settings, max_quarantine_share=1.0)  # a tiny export, on purpose

    nightly.run_night(NIGHT, "run", lenient)

    (path,) = settings.outreach_folder(NIGHT).glob("second_order/*.csv")
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))
    by_id = {row["account_id"]: row for row in rows}
    assert sorted(by_id) == sorted(ids)
    assert [by_id[i]["first_name"] for i in ids[: len(names)]] == [
        *("'" + name for name in DANGEROUS),
        "Ana",
        "Ana=Bob",
        "",
    ]
    assert {row["sponsor_first_name"] for row in rows} == {"'" + SPONSOR_NAME}
    assert by_id[ids[-1]]["email"] == "'-bo@example.com"
    assert {row["revenue_in_window"] for row in rows} == {"50.00"}
    raw = path.read_bytes()
    assert b'"\'=HYPERLINK(""http://x"",""click"")"' in raw
    assert b'"\'\rReturn"' in raw and b"\r\n" not in raw

    quarantined = {
        name: _parse((settings.quarantine_folder(NIGHT) / name).read_bytes().decode("utf-8"))
        for name in ("accounts__quarantined.csv", "orders__quarantined.csv")
    }
    ((_, _, raw_account),) = quarantined["accounts__quarantined.csv"][1:]
    assert raw_account.startswith("'@evil,vip,")
    ((_, _, raw_order),) = quarantined["orders__quarantined.csv"][1:]
    assert raw_order.startswith("'=O99,")

    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        # the warehouse keeps the values as they came, and the data team sees them
        assert connection.execute(
            "select first_name from raw.accounts where account_id = ?", [ids[0]]
        ).fetchone() == (DANGEROUS[0],)
        flags = connection.execute(
            "select flag, count(*) from ops.flagged_rows where file_name = 'accounts.csv' "
            "group by flag order by flag"
        ).fetchall()
        # the outreach file's types: text columns are the ones the writer neutralises
        types = dict(
            connection.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'pump' and table_name = 'pump_outreach_lists'"
            ).fetchall()
        )
    assert flags == sorted(
        [(formula_like_flag("email"), 1), (formula_like_flag("first_name"), len(DANGEROUS) + 1)]
    )
    assert {c for c in outreach.FILE_COLUMNS if types[c] == "VARCHAR"} == set(outreach.TEXT_COLUMNS)
