"""Nights are transactions: running nights out of order or again gives the same result,
on a byte copy of the warehouse or a compacted one, a run killed with SIGKILL leaves
nothing half-written in sight, and BI readers are never locked out of the warehouse nor
shown half a night."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from next_steps import nightly
from next_steps.config import Settings
from next_steps.errors import NightFailed
from next_steps.publish import outreach
from next_steps.sample.generator import generate_nights

FIRST = date(2025, 5, 30)
SECOND = FIRST + timedelta(days=1)
# outreach_log, campaign_performance and journey_transitions depend on earlier nights:
# the result must still not depend on the order the nights were built in
MARTS = (
    "customer_segments",
    "segment_summary",
    "next_steps",
    "outreach_log",
    "campaign_performance",
    "journey_transitions",
)
TABLES = (
    *(f"marts.{m}" for m in MARTS),
    "intermediate.int_accounts_history",
    "marts.customer_segments_history",
    "marts.next_steps_history",
    "raw.orders",
    "ops.load_audit",
    "ops.quarantined_rows",
)

pytestmark = pytest.mark.slow


def _settings(data: Path) -> Settings:
    return Settings.from_env({"NEXT_STEPS_DATA_DIR": str(data)})


#: campaign_performance's columns that read a contact's revenue_to_date
REVENUE_COLUMNS = (
    "listed_revenue|holdout_revenue|control_revenue|.*_revenue_squares|revenue_.*"
    "|incremental_revenue"
)


def _state(settings: Settings, revenue_unknown_before: date | None = None) -> dict:
    """The tables and files a night leaves. ``revenue_unknown_before``: campaign
    performance's revenue figures of the listing nights before it are left out (a
    warehouse upgraded from release 0.2 never knew those nights' revenue_to_date)."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        # ops.load_audit.source_path names each test's own data folder: leave it out
        queries = {t: f"select * from {t} order by all" for t in TABLES}
        queries["ops.load_audit"] = (
            "select * exclude (source_path) from ops.load_audit order by all"
        )
        if revenue_unknown_before is not None:
            kept = [
                name
                for (name,) in connection.execute(
                    "select column_name from information_schema.columns where table_schema "
                    "= 'marts' and table_name = 'campaign_performance' order by ordinal_position"
                ).fetchall()
                if not re.fullmatch(REVENUE_COLUMNS, name)
            ]
            queries["marts.campaign_performance"] = (
                f"select {', '.join(kept)} from marts.campaign_performance order by all"
            )
            queries["revenue of the nights since"] = (
                "select * from marts.campaign_performance "
                f"where listing_date >= '{revenue_unknown_before}' order by all"
            )
        tables = {t: connection.execute(query).fetchall() for t, query in queries.items()}
    files = {}
    for night_folder in sorted(settings.outreach_dir.iterdir()):
        for path in sorted(night_folder.rglob("*.csv")):
            files[path.relative_to(settings.outreach_dir).as_posix()] = path.read_bytes()
    return {"tables": tables, "files": files}


def _run_in_subprocess(settings: Settings, night: date) -> subprocess.Popen:
    code = (
        "import sys; from datetime import date; from next_steps import nightly; "
        "nightly.run_night(date.fromisoformat(sys.argv[1]), 'killed-run')"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, night.isoformat()],
        env={**os.environ, "NEXT_STEPS_DATA_DIR": str(settings.data_dir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("exports") / "landing"
    generate_nights(landing, FIRST, nights=2, orders=3000, seed=11)
    return landing


def _data_dir(tmp_path_factory, landing: Path, name: str) -> Settings:
    data = tmp_path_factory.mktemp(name)
    (data / "landing").symlink_to(landing, target_is_directory=True)
    return _settings(data)


@pytest.fixture(scope="module")
def in_order_run(tmp_path_factory, landing) -> Settings:
    settings = _data_dir(tmp_path_factory, landing, "in_order")
    for night in (FIRST, SECOND):
        nightly.run_night(night, "run", settings)
    return settings


@pytest.fixture(scope="module")
def in_order(in_order_run) -> dict:
    return _state(in_order_run)


def test_nights_run_out_of_order_and_again_give_the_same_result(
    tmp_path_factory, landing, in_order
):
    settings = _data_dir(tmp_path_factory, landing, "out_of_order")
    for night in (SECOND, FIRST, SECOND, FIRST):  # backwards, then a backfill of both
        nightly.run_night(night, "run", settings)
    assert _state(settings) == in_order


def test_nights_built_on_a_compacted_copy_give_the_same_result(tmp_path_factory, landing, in_order):
    # compact whenever the file is at least its size after the last compaction (or the
    # first copy): the re-run of the second night builds on a compacted copy
    settings = replace(_data_dir(tmp_path_factory, landing, "compacted"), warehouse_compact_at=1.0)
    for night in (FIRST, SECOND, SECOND):
        nightly.run_night(night, "run", settings)
    assert _state(settings) == in_order
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        copies = connection.execute(
            "select as_of_date, compacted, working_bytes < published_bytes "
            "from ops.warehouse_copies order by copied_at"
        ).fetchall()
    # the first night had nothing to copy; the second's first copy is the reference
    assert copies == [(SECOND, False, False), (SECOND, True, True)]


def test_a_run_killed_during_dbt_build_leaves_the_published_night_and_reruns_cleanly(
    tmp_path_factory, landing, in_order
):
    settings = _data_dir(tmp_path_factory, landing, "killed")
    nightly.run_night(FIRST, "run", settings)
    published = _sha(settings.warehouse)

    run = _run_in_subprocess(settings, SECOND)
    dbt_log = settings.run_folder(SECOND) / "dbt" / "dbt.log"
    deadline = time.monotonic() + 300
    while not (dbt_log.exists() and " START " in dbt_log.read_text(errors="replace")):
        assert run.poll() is None, run.stdout.read().decode()
        assert time.monotonic() < deadline, "dbt never started"
        time.sleep(0.05)
    time.sleep(2)  # well inside the build
    run.send_signal(signal.SIGKILL)
    run.wait()

    assert _sha(settings.warehouse) == published, "the published warehouse changed"
    assert not settings.outreach_folder(SECOND).exists()
    nightly.run_night(SECOND, "run", settings)
    assert _state(settings) == in_order


def test_a_run_killed_while_writing_files_shows_no_partial_folder(tmp_path):
    outreach_dir = tmp_path / "outreach"
    small = {
        ("second_order", "1"): [
            (
                "A1",
                "Ana",
                "ana@example.com",
                "pl",
                "PL",
                "1",
                "second_order",
                "1",
                "9.00",
                "2025-05-01",
                "why",
                *[""] * 6,
                "1",  # orders_in_window, revenue_in_window (after the 0.1 columns)
                "9.00",
                *[""] * 3,  # no predictions
                "second_order",
                SECOND.isoformat(),
                "SKU-0017",  # the offer
                "why this product",
            )
        ]
    }
    outreach.publish_night(small, outreach_dir, SECOND, "first", tmp_path / "landing")
    before = {
        p: p.read_bytes() for p in (outreach_dir / SECOND.isoformat()).rglob("*") if p.is_file()
    }
    code = (
        "import sys; from datetime import date; from pathlib import Path\n"
        "from next_steps.publish import outreach\n"
        "row = ('A1', 'Ana', 'ana@example.com', 'pl', 'PL', '1', 'second_order', '1', '9.00',"
        " '2025-05-01', 'a reason a marketer reads', '', '', '', '', '', '', '1', '9.00', '', '', '', 'second_order', '2025-05-31', 'SKU-0017', 'why')\n"
        "lists = {('second_order', str(i)): [row] * 400000 for i in range(12)}\n"
        "outreach.publish_night(lists, Path(sys.argv[1]), date(2025, 5, 31), 'killed', "
        "Path('x'))\n"
    )
    run = subprocess.Popen([sys.executable, "-c", code, str(outreach_dir)])
    deadline = time.monotonic() + 120
    while not list(outreach_dir.glob(".incoming-*/second_order/*.csv")):
        assert run.poll() is None, "the writer finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.3)
    run.send_signal(signal.SIGKILL)
    run.wait()

    visible = [p.name for p in outreach_dir.iterdir() if not p.name.startswith(".")]
    assert visible == [SECOND.isoformat()]
    after = {
        p: p.read_bytes() for p in (outreach_dir / SECOND.isoformat()).rglob("*") if p.is_file()
    }
    assert after == before, "the published night changed under a killed writer"
    outreach.publish_night(small, outreach_dir, SECOND, "again", tmp_path / "landing")
    assert [p.name for p in outreach_dir.iterdir()] == [SECOND.isoformat()]


def test_bi_readers_are_never_refused_and_never_see_half_a_night(tmp_path_factory, landing):
    settings = _data_dir(tmp_path_factory, landing, "readers")
    nightly.run_night(FIRST, "run", settings)
    seen: list[tuple] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def read_continuously() -> None:
        while not stop.is_set():
            try:
                with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
                    seen.append(
                        tuple(
                            connection.execute(
                                "select as_of_date, count(*), "
                                "(select count(*) from marts.customer_segments c "
                                " where c.as_of_date = s.as_of_date) "
                                "from marts.segment_summary s group by as_of_date order by as_of_date"
                            ).fetchall()
                        )
                    )
            except Exception as exc:
                errors.append(exc)
            time.sleep(0.02)

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        run = _run_in_subprocess(settings, SECOND)
        output = run.communicate(timeout=600)[0].decode(errors="replace")
        assert run.returncode == 0, output
    finally:
        stop.set()
        reader.join()
    assert errors == []
    states = set(seen)
    assert len(seen) > 50
    one_night, two_nights = sorted(states, key=len)
    assert len(states) == 2, states
    assert [row[0] for row in one_night] == [FIRST]
    assert [row[0] for row in two_nights] == [FIRST, SECOND]
    assert all(row[1] == 7 for row in two_nights)


def test_a_published_night_keeps_no_copy_of_its_rows_and_says_how_to_reload(
    tmp_path_factory, landing
):
    settings = _data_dir(tmp_path_factory, landing, "published")
    nightly.run_night(FIRST, "run", settings)
    staged = settings.run_folder(FIRST) / "staged"
    assert sorted(p.name for p in staged.iterdir()) == [
        "accounts.meta.json",
        "order_lines.meta.json",
        "orders.meta.json",
    ]
    with pytest.raises(NightFailed, match="re-run the night from validate_export"):
        nightly.run_night(FIRST, "run", settings, only=("wait_for_warehouse", "load_warehouse"))
    # the failed load gave the warehouse back: the whole night runs again
    nightly.run_night(FIRST, "run", settings)


def test_a_warehouse_of_release_0_2_keeps_every_night_when_it_upgrades(
    tmp_path_factory, landing, in_order_run
):
    """Release 0.2 kept a full copy per night: the four marts were tables with a row per
    account per night, and raw.accounts every night's snapshot. The first night built by
    this release takes those nights into the change histories: the result is the same as
    building every night with it."""
    from next_steps.build import warehouse, warehouse_lease

    settings = _data_dir(tmp_path_factory, landing, "upgrade")
    for night in (FIRST, SECOND):
        nightly.run_night(night, "run", settings)
    # turn it into the warehouse 0.2 left: tables instead of histories and views
    with duckdb.connect(str(settings.warehouse)) as connection:
        for mart in ("customer_segments", "next_steps", "journey_stages", "distributor_segments"):
            connection.execute(f"create table marts.{mart}__old as select * from marts.{mart}")
            connection.execute(f"drop view marts.{mart}")
            connection.execute(f"drop table marts.{mart}_history")
            connection.execute(f"alter table marts.{mart}__old rename to {mart}")
        connection.execute("drop table marts.built_nights")
        connection.execute("drop table intermediate.int_accounts_history")
    # and every night's accounts snapshot in raw (the loader keeps them while the
    # history of accounts does not exist)
    nightly.run_night(
        FIRST, "run", settings, only=("validate_export", "wait_for_warehouse", "load_warehouse")
    )
    warehouse.publish_working_copy(settings.working_warehouse, settings.warehouse)
    warehouse_lease.give_back(settings.warehouse_lease, FIRST)
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        assert connection.execute(
            "select count(distinct export_date) from raw.accounts"
        ).fetchone() == (2,)

    nightly.run_night(SECOND, "run", settings)
    # release 0.2 kept no revenue to date: the revenue in the windows of the listing nights
    # before the upgrade is not known (the rest is the same as building every night)
    assert _state(settings, revenue_unknown_before=SECOND) == _state(
        in_order_run, revenue_unknown_before=SECOND
    )
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        assert connection.execute(
            "select count(distinct export_date) from raw.accounts"
        ).fetchone() == (2,), "the snapshots stay until the history of accounts exists"
    # from then on raw keeps only the night loaded last
    nightly.run_night(SECOND, "run", settings)
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        assert connection.execute("select distinct export_date from raw.accounts").fetchall() == [
            (SECOND,)
        ]
