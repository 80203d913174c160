"""Say when a task of a night has failed for good: which night, which task, and why.

The message always goes to the task log.  When the Airflow connection
``next_steps_alerts`` exists, it is also posted as JSON to the connection's
``webhook_url`` extra (Slack, Teams, Mattermost and most chat and paging tools take an
incoming webhook), e.g. in ``.env``::

    AIRFLOW_CONN_NEXT_STEPS_ALERTS='{"conn_type": "http", "extra": {"webhook_url": "https://..."}}'

A failing alert is logged, never raised: it must not hide the task's own failure.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

log = logging.getLogger(__name__)

ALERT_CONNECTION = "next_steps_alerts"


def failure_alert(context: dict[str, Any]) -> dict[str, Any]:
    """The facts of a failure, from an Airflow task context."""
    ti = context["ti"]
    reason = describe(context.get("exception"))
    night = context.get("ds")
    return {
        "night": night,
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "try_number": ti.try_number,
        "reason": reason,
        "text": (
            f"Next steps: night {night}, task {ti.dag_id}.{ti.task_id} failed "
            f"(try {ti.try_number}): {reason}"
        ),
    }


def describe(exception: BaseException | str | None) -> str:
    """A failure's cause in one line.  Our own failures (a bad export, a failed dbt test:
    ``NightFailed``, raised to Airflow as ``AirflowFailException``) say everything in
    their message; anything else is named by its type too, since its message alone can
    be cryptic (``OSError: [Errno 28] No space left on device``, ``KeyError: 'x'``)."""
    if exception is None:
        return "unknown (see the task log)"
    if isinstance(exception, str):
        return exception
    from next_steps.errors import NightFailed

    message = " ".join(str(exception).split())
    if isinstance(exception, NightFailed) or type(exception).__name__ == "AirflowFailException":
        return message or type(exception).__name__
    return f"{type(exception).__name__}: {message}" if message else type(exception).__name__


def _webhook_url() -> str | None:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        connection = Connection.get(ALERT_CONNECTION)
    except AirflowNotFoundException:
        return None
    return connection.extra_dejson.get("webhook_url") or None


def post_alert(alert: dict[str, Any], url: str, timeout: float = 10.0) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(alert).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()


def on_task_failure(context: dict[str, Any]) -> None:
    """``on_failure_callback`` of the DAGs' tasks."""
    alert = failure_alert(context)
    log.error("%s", alert["text"])
    try:
        url = _webhook_url()
        if url:
            post_alert(alert, url)
    except Exception as exc:
        log.warning("Could not send the failure alert to %s: %s", ALERT_CONNECTION, exc)
