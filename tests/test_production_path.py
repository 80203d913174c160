"""The production path, on this machine: PostgreSQL metadata, the API server, scheduler
and DAG processor as separate processes, nights started the way an operator starts them.

Three export nights (a history export, then two deltas) are generated.  While the DAGs
are still paused, the first night is triggered through the REST API and the other two by
``airflow backfill create``; then both DAGs are unpaused through the REST API.  The
scheduler now has three runs of ``next_steps_nightly`` at once (a manual run and a
backfill run are not held back by ``max_active_runs`` together), so the warehouse's pool
and lease must keep them from overwriting each other's nights.  Every run must succeed,
``next_steps_delivery`` must deliver each night the outreach Asset names, and the result
must equal the same nights run one by one with ``airflow dags test``.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from next_steps.airflow.dag_defaults import WAREHOUSE_POOL, WAREHOUSE_POOL_SLOTS
from next_steps.sample.generator import generate_nights

from airflow_stack import AIRFLOW, ROOT, AirflowStack, wait_for
from conftest import dags_test_env

pytestmark = pytest.mark.slow

NIGHTLY, DELIVERY = "next_steps_nightly", "next_steps_delivery"
# yesterday's night is the one the scheduler would start on its own once the DAG is
# unpaused; the backfill creates its run first, so the scheduler does not add another
LAST = datetime.now(UTC).date() - timedelta(days=1)
NIGHTS = [LAST - timedelta(days=2), LAST - timedelta(days=1), LAST]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = AirflowStack(tmp_path_factory.mktemp("production"))
    generate_nights(stack.data / "landing", NIGHTS[0], len(NIGHTS), orders=3000, seed=11)
    try:
        stack.start()
        stack.wait_for_dag(NIGHTLY)
        stack.wait_for_dag(DELIVERY)
        first = stack.api(
            "POST", f"/dags/{NIGHTLY}/dagRuns", json={"logical_date": f"{NIGHTS[0]}T00:00:00Z"}
        )
        stack.cli(
            "backfill",
            "create",
            "--dag-id",
            NIGHTLY,
            "--from-date",
            NIGHTS[1].isoformat(),
            "--to-date",
            NIGHTS[2].isoformat(),
        )
        backfilled = {
            r["dag_run_id"] for r in stack.dag_runs(NIGHTLY) if r["run_type"] == "backfill"
        }
        for dag_id in (DELIVERY, NIGHTLY):
            stack.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        stack.runs = stack.wait_for_runs(NIGHTLY, {first["dag_run_id"], *backfilled}, timeout=1200)
        stack.first_run_id = first["dag_run_id"]

        def delivered() -> bool:
            """Every night's delivery equals its published folder (a night built out of
            order may rewrite a later night's folder, which is then delivered again)."""
            busy = [r for r in stack.dag_runs(DELIVERY) if r["state"] in ("queued", "running")]
            return not busy and all(
                _files(stack.data / "delivered" / night.isoformat())
                == _files(stack.data / "outreach" / night.isoformat())
                for night in NIGHTS
            )

        wait_for(delivered, 600, "every night delivered", stack.logs)
        yield stack
    finally:
        stack.close()


def _night_of(run: dict) -> date:
    return datetime.fromisoformat(run["logical_date"]).date()


def test_the_operator_triggered_night_and_the_backfilled_nights_all_succeed(stack):
    kinds = {_night_of(run): run["run_type"] for run in stack.runs}
    assert kinds == {NIGHTS[0]: "manual", NIGHTS[1]: "backfill", NIGHTS[2]: "backfill"}
    assert {run["dag_run_id"] for run in stack.runs if run["run_type"] == "manual"} == {
        stack.first_run_id
    }
    # no scheduled run of its own: the backfill already had yesterday's night
    assert (
        sorted(_night_of(run) for run in stack.dag_runs(NIGHTLY) if _night_of(run) in NIGHTS)
        == NIGHTS
    )
    pool = stack.api("GET", f"/pools/{WAREHOUSE_POOL}")
    assert pool["slots"] == WAREHOUSE_POOL_SLOTS


def _warehouse_holds(stack: AirflowStack) -> list[tuple[datetime, datetime, date]]:
    """When each run held the warehouse: load_warehouse's start to publish_night's end."""
    holds = []
    for run in stack.runs:
        tasks = {ti["task_id"]: ti for ti in stack.task_instances(NIGHTLY, run["dag_run_id"])}
        holds.append(
            (
                datetime.fromisoformat(tasks["load_warehouse"]["start_date"]),
                datetime.fromisoformat(tasks["publish_night"]["end_date"]),
                _night_of(run),
            )
        )
    return sorted(holds)


def test_the_nights_held_the_warehouse_one_after_the_other(stack):
    holds = _warehouse_holds(stack)
    for (_, end, night), (start, _, later) in itertools.pairwise(holds):
        assert end <= start, f"{night} and {later} were between load and publish together"
    lease = stack.data / ".warehouse.duckdb.lease"
    assert not lease.exists()


def test_every_night_is_in_the_warehouse_and_its_files_were_delivered_byte_for_byte(stack):
    with duckdb.connect(str(stack.data / "warehouse.duckdb"), read_only=True) as connection:
        nights = connection.execute(
            "select distinct as_of_date from marts.segment_summary order by 1"
        ).fetchall()
    assert [night for (night,) in nights] == NIGHTS
    for night in NIGHTS:
        published = _files(stack.data / "outreach" / night.isoformat())
        assert published.keys() >= {"manifest.json", "_SUCCESS"}
        assert _files(stack.data / "delivered" / night.isoformat()) == published


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _marts(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "order by 1"
            ).fetchall()
        ]
        return {
            name: connection.execute(f"select * from marts.{name} order by all").fetchall()
            for name in tables
        }


def test_the_result_equals_the_same_nights_run_one_by_one(stack, tmp_path):
    """``airflow dags test`` of each night in the order the stack published them, with
    SQLite metadata and a warehouse of its own."""
    order = [night for _, _, night in _warehouse_holds(stack)]
    data = tmp_path / "data"
    generate_nights(data / "landing", NIGHTS[0], len(NIGHTS), orders=3000, seed=11)
    env = dags_test_env(data, tmp_path / "airflow")
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
    for night in order:
        completed = subprocess.run(
            [sys.executable, str(ROOT / "scripts/run_night.py"), night.isoformat()],
            env=env,
            capture_output=True,
            text=True,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
    assert _marts(data / "warehouse.duckdb") == _marts(stack.data / "warehouse.duckdb")
    for night in NIGHTS:
        one_by_one = _files(data / "outreach" / night.isoformat())
        backfilled = _files(stack.data / "outreach" / night.isoformat())
        # the manifests name their run and export folder; the lists and checksums agree
        assert {k: v for k, v in one_by_one.items() if k.endswith(".csv")} == {
            k: v for k, v in backfilled.items() if k.endswith(".csv")
        }
        assert one_by_one.keys() == backfilled.keys()


def test_the_celery_executor_runs_a_night_on_the_local_redis(tmp_path):
    """The same stack with the CeleryExecutor: tasks go through Redis to a Celery worker."""
    stack = AirflowStack(tmp_path, executor="CeleryExecutor")
    generate_nights(stack.data / "landing", LAST, 1, orders=1000, seed=5)
    try:
        stack.start(worker=True)
        stack.wait_for_dag(NIGHTLY)
        # yesterday's night, triggered before unpausing: the scheduler adds no run of its own
        run = stack.api(
            "POST", f"/dags/{NIGHTLY}/dagRuns", json={"logical_date": f"{LAST}T00:00:00Z"}
        )
        stack.api("PATCH", f"/dags/{NIGHTLY}", json={"is_paused": False})
        stack.wait_for_runs(NIGHTLY, {run["dag_run_id"]}, timeout=900)
        tasks = stack.task_instances(NIGHTLY, run["dag_run_id"])
        assert {ti["state"] for ti in tasks} == {"success"}
        worker_log = (stack.home / "celery-worker.log").read_text(errors="replace")
        for ti in tasks:  # every task ran in the Celery worker, not in the scheduler
            assert ti["task_id"] in worker_log, ti["task_id"]
        assert (stack.data / "outreach" / LAST.isoformat() / "_SUCCESS").exists()
    finally:
        stack.close()
