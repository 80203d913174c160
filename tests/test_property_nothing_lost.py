"""Property: whatever cells or lines of a valid export are corrupted, every row read is
loaded or quarantined (the counts add up) and no damaged row is loaded.

Every corruption below makes its row break the contract, so "no damaged row is loaded"
is exact: a damaged line's number never appears in ``raw.*``.  (The full night test in
``test_end_to_end`` checks that the marts are built only from ``raw``.)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from next_steps import nightly
from next_steps.config import Settings
from next_steps.ingest.contract import ACCOUNTS, ORDERS

from conftest import account, order, write_export

NIGHT = date(2025, 6, 30)
ACCOUNT_ROWS = 40
ORDER_ROWS = 80

#: Per column, values that break its rule (type, enum, sign, emptiness, range).
INVALID = {
    "account_id": st.just(""),
    "account_type": st.sampled_from(["vip", "Retail", "", "distributor "]),
    "status": st.sampled_from(["closed", "", "ACTIVE"]),
    "enrolled_at": st.sampled_from(["2025-13-01", "01/02/2025", "", "2999-01-01", "2025-02-30"]),
    "email_opt_in": st.sampled_from(["yes", "1", "", "TRUE"]),
    "autoship_active": st.sampled_from(["no", "0", ""]),
    "country": st.sampled_from(["USA", "u", "", "12"]),
    "rank": st.sampled_from(["-1", "one", "2.5"]),
    "order_id": st.just(""),
    "order_date": st.sampled_from(["2025-06-31T10:00:00Z", "tomorrow", "", "2999-01-01T00:00:00Z"]),
    "order_type": st.sampled_from(["subscription", ""]),
    "currency": st.sampled_from(["US", "usd", "", "XAU"]),
    "order_total": st.sampled_from(["-0.01", "abc", "", "1e5", "--1"]),
    "volume": st.sampled_from(["-5", "x", ""]),
    "updated_at": st.sampled_from(["2025-02-30T00:00:00Z", "noon", ""]),
}


def corruption(columns: list[str]) -> st.SearchStrategy[tuple]:
    """A broken cell of one of ``columns``, or a line with a field too many or too few."""
    breakable = sorted(set(columns) & set(INVALID))
    return st.one_of(
        st.sampled_from(breakable).flatmap(
            lambda column: st.tuples(st.just("cell"), st.just(column), INVALID[column])
        ),
        st.tuples(st.sampled_from(["extra_field", "missing_field"]), st.none(), st.none()),
    )


def _damage(lines: list[str], columns: list[str], line: int, how: tuple) -> None:
    kind, column, value = how
    fields = lines[line - 1].split(",")
    if kind == "cell":
        fields[columns.index(column)] = value
    elif kind == "extra_field":
        fields.append("surplus")
    else:
        fields.pop()
    lines[line - 1] = ",".join(fields)


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    damaged_accounts=st.dictionaries(
        st.integers(2, ACCOUNT_ROWS + 1), corruption(ACCOUNTS.column_names), max_size=4
    ),
    damaged_orders=st.dictionaries(
        st.integers(2, ORDER_ROWS + 1), corruption(ORDERS.column_names), max_size=8
    ),
)
def test_every_row_is_loaded_or_quarantined_and_no_damaged_row_loads(
    tmp_path_factory, damaged_accounts, damaged_orders
):
    base = tmp_path_factory.mktemp("night")
    settings = replace(
        Settings.from_env({"NEXT_STEPS_DATA_DIR": str(base)}), max_quarantine_share=1.0
    )
    folder = write_export(
        settings.export_folder(NIGHT),
        [account(f"A{i}") for i in range(ACCOUNT_ROWS)],
        [order(f"O{i}", f"A{i % ACCOUNT_ROWS}", "2025-06-01T10:00:00Z") for i in range(ORDER_ROWS)],
    )
    for name, columns, damaged in (
        ("accounts", ACCOUNTS.column_names, damaged_accounts),
        ("orders", ORDERS.column_names, damaged_orders),
    ):
        lines = (folder / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        for line, how in damaged.items():
            _damage(lines, columns, line, how)
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    nightly.validate_export(NIGHT, settings)
    loaded = nightly.load_export(NIGHT, settings)

    assert loaded["accounts"]["rows_read"] == ACCOUNT_ROWS
    assert loaded["orders"]["rows_read"] == ORDER_ROWS
    for counts in loaded.values():
        assert counts["rows_read"] == counts["rows_loaded"] + counts["rows_quarantined"]
    with duckdb.connect(str(settings.working_warehouse), read_only=True) as connection:
        for table, damaged in (("accounts", damaged_accounts), ("orders", damaged_orders)):
            loaded_lines = {
                line
                for (line,) in connection.execute(f"select source_line from raw.{table}").fetchall()
            }
            assert not loaded_lines & set(damaged), f"a damaged {table} row was loaded"
            quarantined = {
                line
                for (line,) in connection.execute(
                    "select line_number from ops.quarantined_rows where file_name = ?",
                    [f"{table}.csv"],
                ).fetchall()
            }
            assert set(damaged) <= quarantined
            assert len(loaded_lines) + len(quarantined) == loaded[table]["rows_read"]
