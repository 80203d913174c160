"""What every task of the project's DAGs shares: owner, retries with back-off, the
failure alert, and :func:`run_step`, which makes a bad-input failure final."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from next_steps.alerts import on_task_failure


def default_args() -> dict[str, Any]:
    return {
        "owner": "data-engineering",
        "retries": int(os.environ.get("NEXT_STEPS_RETRIES", "2")),
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        # names the night, the task and the reason; posts to the connection
        # next_steps_alerts when there is one
        "on_failure_callback": on_task_failure,
    }


def run_step(function, *args):
    """Run a pipeline step; a bad-input failure (``NightFailed``) is final, so Airflow
    does not retry it: retrying cannot fix an export."""
    from airflow.sdk.exceptions import AirflowFailException

    from next_steps.errors import NightFailed

    try:
        return function(*args)
    except NightFailed as exc:
        raise AirflowFailException(str(exc)) from exc
