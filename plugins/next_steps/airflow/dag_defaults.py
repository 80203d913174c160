"""What the tasks of the project's DAGs share: owner, retries with back-off, the failure
alert, how a night waits for the warehouse, and :func:`run_step`, which decides whether
a failure is worth a retry.

- Bad input (:class:`~next_steps.errors.NightFailed`: a broken export, a failed dbt test,
  a night that lost the warehouse) fails the task for good: retrying cannot fix it.
- Anything else (DuckDB's own lock on a file, a full disk, an unreachable destination) is
  retried ``NEXT_STEPS_RETRIES`` times (:class:`~next_steps.config.Settings`), 2 minutes
  later and then twice as long each time.

Nights take turns on the warehouse (``next_steps.build.warehouse_lease``): the sensor
``wait_for_warehouse`` pokes every ``NEXT_STEPS_WAREHOUSE_WAIT_SECONDS`` until its night
holds the lease.  It waits in poke mode, holding a worker but no pool
slot; reschedule mode would free the worker, but Airflow 3.3 can fail a rescheduled task
when the executor reports its previous poke late (apache/airflow#71172; seen here).

The tasks that write the warehouse (load, build, publish) run in the pool
``next_steps_warehouse``, one slot: one DuckDB writer, and one night's memory, at a time.
The pool must exist (``airflow pools set next_steps_warehouse 1 ...``, which ``make run``
and ``airflow-init`` of docker-compose.yml do); a task in a missing pool is never scheduled.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from next_steps.airflow.alerts import on_task_failure

log = logging.getLogger(__name__)

WAREHOUSE_POOL = "next_steps_warehouse"
WAREHOUSE_POOL_SLOTS = 1
WAREHOUSE_POOL_DESCRIPTION = "Next steps: one night writes the DuckDB warehouse at a time"


def default_args() -> dict[str, Any]:
    from next_steps.config import Settings

    settings = Settings.from_env()
    return {
        "owner": "data-engineering",
        "retries": settings.retries,
        # a step that hangs (a query waiting on a lock, a stuck destination) fails and is
        # retried instead of holding its worker and the warehouse until the lease is stale
        "execution_timeout": (
            timedelta(minutes=settings.task_timeout_minutes)
            if settings.task_timeout_minutes > 0
            else None
        ),
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        # names the night, the task and the reason; posts to the connection
        # next_steps_alerts when there is one
        "on_failure_callback": on_task_failure,
    }


def give_back_warehouse(context: dict[str, Any]) -> None:
    """``on_failure_callback`` of the warehouse tasks: a night that failed for good
    between load and publish lets the other nights load.  Never raises."""
    from next_steps import nightly

    try:
        if nightly.give_back_warehouse(date.fromisoformat(context["ds"])):
            log.warning("Night %s gave the warehouse back after failing", context["ds"])
    except Exception as exc:
        log.error("Could not give the warehouse lease back: %s", exc)


def warehouse_task() -> dict[str, Any]:
    """``@task`` arguments of the steps that write the warehouse."""
    return {"pool": WAREHOUSE_POOL, "on_failure_callback": [on_task_failure, give_back_warehouse]}


def warehouse_sensor() -> dict[str, Any]:
    """``@task.sensor`` arguments of ``wait_for_warehouse``: poke until the night holds
    the warehouse; give up a little after a lease counts as stale (by then the poke has
    failed the night with a message that says which night held it)."""
    from next_steps.config import Settings

    settings = Settings.from_env()
    return {
        "mode": "poke",
        "poke_interval": settings.warehouse_wait_seconds,
        # waiting for another night is not hanging: the sensor's own timeout below bounds it
        "execution_timeout": None,
        "timeout": (settings.warehouse_lease_stale_after + timedelta(minutes=30)).total_seconds(),
    }


def run_step(function, night: date, *args, timed: bool = True):
    """Run a pipeline step for ``night``; a bad-input failure (``NightFailed``) is final,
    so Airflow does not retry it: retrying cannot fix an export.  Anything else is
    retried.  A step that succeeds inside a task is timed into the night's
    ``runs/<D>/timings.json`` (for the report); ``timed=False`` for sensor pokes."""
    from airflow.sdk.exceptions import AirflowFailException

    from next_steps.errors import NightFailed

    started = datetime.now(UTC)
    try:
        result = function(night, *args)
    except NightFailed as exc:
        raise AirflowFailException(str(exc)) from exc
    if timed:
        _record_timing(night, started)
    return result


def _record_timing(night: date, started: datetime) -> None:
    """Into the night's timings, under the running task's id; never fails the task."""
    from next_steps.publish import timings

    try:
        from airflow.sdk import get_current_context

        context = get_current_context()
    except Exception:  # not inside an Airflow task: nothing to record
        return
    try:
        timings.record_timing(
            night, context["ti"].task_id, context["run_id"], started, datetime.now(UTC)
        )
    except Exception as exc:
        log.warning("Could not record the timing of %s: %s", context["ti"].task_id, exc)
