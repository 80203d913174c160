"""Every DAG file imports cleanly and carries what an operator relies on."""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[1] / "dags"


@pytest.fixture(scope="module")
def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=DAGS_FOLDER)


def test_every_dag_file_imports_without_errors(dag_bag):
    assert dag_bag.import_errors == {}
    assert dag_bag.dags, "no DAG found"


def test_every_dag_has_tags_retries_docs_and_no_catchup_surprise(dag_bag):
    for dag_id, dag in dag_bag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md and len(dag.doc_md) > 200, f"{dag_id} tells the operator nothing"
        assert dag.catchup is False, f"{dag_id} must say whether it catches up"
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


def test_nightly_dag_reads_as_the_data_flow(dag_bag):
    dag = dag_bag.dags["next_steps_nightly"]
    order = []
    task = dag.get_task("find_export")
    while task is not None:
        order.append(task.task_id)
        downstream = list(task.downstream_list)
        assert len(downstream) <= 1
        task = downstream[0] if downstream else None
    assert order == [
        "find_export",
        "validate_export",
        "wait_for_warehouse",
        "load_warehouse",
        "build_models",
        "write_outreach_files",
        "publish_night",
        "summarize_night",
    ]
    assert dag.max_active_runs == 1


def test_the_nightly_dag_runs_the_steps_a_night_runs_in_process(dag_bag):
    """One order of a night: the DAG's tasks are nightly.STEPS (which run_night runs for
    the tests and the bench), the warehouse tasks are the steps that hold the warehouse,
    and the sensor is the sensor step."""
    from next_steps import nightly
    from next_steps.airflow.dag_defaults import WAREHOUSE_POOL

    dag = dag_bag.dags["next_steps_nightly"]
    assert [task.task_id for task in dag.topological_sort()] == [
        step.task_id for step in nightly.STEPS
    ]
    assert {task.task_id for task in dag.tasks if task.pool == WAREHOUSE_POOL} == {
        step.task_id for step in nightly.STEPS if step.holds_warehouse
    }
    sensors = {task.task_id for task in dag.tasks if type(task).__name__.endswith("SensorOperator")}
    assert sensors == {step.task_id for step in nightly.STEPS if step.sensor}


def test_nightly_dag_has_daily_utc_data_intervals(dag_bag):
    # A data-interval timetable: the run for night D has logical date D and covers
    # [D, D+1), so the as-of date is the day the interval covers.  (A cron *trigger*
    # timetable, Airflow 3's default for cron strings, would stamp the run with D+1.)
    timetable = dag_bag.dags["next_steps_nightly"].timetable
    assert type(timetable).__name__ == "CronDataIntervalTimetable"
    assert timetable.expression == "0 0 * * *"
    assert str(timetable.timezone) == "UTC"


def test_no_dag_or_task_has_a_date_range_that_drops_nights(dag_bag):
    # Airflow creates no task instance for a logical date before a task's start_date or
    # after its end_date, and the run then "succeeds" with nothing done: a company's
    # history before the start date would be silently dropped.  A night is a night,
    # whatever its date (tests/test_nights_of_any_date.py runs such nights).
    for dag_id, dag in dag_bag.dags.items():
        assert dag.start_date is None and dag.end_date is None, dag_id
        for task in dag.tasks:
            assert task.start_date is None and task.end_date is None, f"{dag_id}.{task.task_id}"


def test_dag_files_do_not_import_heavy_libraries_at_top_level():
    for path in DAGS_FOLDER.glob("*.py"):
        head = [
            line for line in path.read_text().splitlines() if line.startswith(("import ", "from "))
        ]
        for line in head:
            for heavy in ("pandas", "great_expectations", "duckdb", "dbt"):
                assert f"import {heavy}" not in line and f"from {heavy}" not in line, (
                    f"{path.name}: top-level '{line}' slows every DAG parse"
                )


def test_the_nightly_dag_publishes_assets_and_delivery_runs_on_the_outreach_asset(dag_bag):
    nightly = dag_bag.dags["next_steps_nightly"]
    outlets = {
        task_id: [asset.name for asset in nightly.get_task(task_id).outlets]
        for task_id in ("write_outreach_files", "publish_night")
    }
    # the night is published whole: marts and outreach folder by the same task
    assert outlets == {
        "write_outreach_files": [],
        "publish_night": ["next_steps_marts", "next_steps_outreach_files"],
    }
    delivery = dag_bag.dags["next_steps_delivery"]
    assert type(delivery.timetable).__name__ == "AssetTriggeredTimetable"
    assert [asset.name for asset in delivery.timetable.asset_condition.objects] == [
        "next_steps_outreach_files"
    ]
    assert [task.task_id for task in delivery.tasks] == ["deliver_outreach_files"]


def test_every_task_says_when_it_fails_for_good(dag_bag):
    from next_steps.airflow.alerts import on_task_failure

    for dag_id, dag in dag_bag.dags.items():
        for task in dag.tasks:
            assert on_task_failure in (task.on_failure_callback or []), f"{dag_id}.{task.task_id}"


def test_the_tasks_that_write_the_warehouse_share_one_pool_and_give_the_lease_back(dag_bag):
    from next_steps.airflow.dag_defaults import WAREHOUSE_POOL, give_back_warehouse

    writers = {"load_warehouse", "build_models", "write_outreach_files", "publish_night"}
    for dag_id, dag in dag_bag.dags.items():
        for task in dag.tasks:
            callbacks = task.on_failure_callback or []
            if dag_id == "next_steps_nightly" and task.task_id in writers:
                assert task.pool == WAREHOUSE_POOL, task.task_id
                assert give_back_warehouse in callbacks, task.task_id
            else:
                assert task.pool == "default_pool", f"{dag_id}.{task.task_id}"
                assert give_back_warehouse not in callbacks, f"{dag_id}.{task.task_id}"


def test_every_task_but_the_sensor_is_stopped_when_it_hangs(dag_bag):
    """A step that hangs fails (and is retried) after NEXT_STEPS_TASK_TIMEOUT_MINUTES
    instead of holding the warehouse; waiting for another night is bounded by the
    sensor's own timeout, not this one."""
    from datetime import timedelta

    for dag_id, dag in dag_bag.dags.items():
        for task in dag.tasks:
            if task.task_id == "wait_for_warehouse":
                assert task.execution_timeout is None
                assert task.timeout > timedelta(hours=6).total_seconds()
            else:
                assert task.execution_timeout == timedelta(minutes=120), f"{dag_id}.{task.task_id}"


def test_the_task_timeout_is_a_setting(monkeypatch):
    from datetime import timedelta

    from next_steps.airflow.dag_defaults import default_args

    monkeypatch.setenv("NEXT_STEPS_TASK_TIMEOUT_MINUTES", "45")
    assert default_args()["execution_timeout"] == timedelta(minutes=45)
    monkeypatch.setenv("NEXT_STEPS_TASK_TIMEOUT_MINUTES", "0")
    assert default_args()["execution_timeout"] is None
