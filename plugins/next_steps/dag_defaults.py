"""What every task of the project's DAGs shares: owner, retries with back-off (a bad
export fails without retries: see ``next_steps.errors``), and the failure alert."""

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
