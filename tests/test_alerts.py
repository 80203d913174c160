"""A task that fails for good says which night, which task and why, in the log and, when
the connection next_steps_alerts is set, to its webhook."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from next_steps.airflow import alerts
from next_steps.errors import NightFailed


def _context():
    ti = SimpleNamespace(dag_id="next_steps_nightly", task_id="validate_export", try_number=3)
    return {"ti": ti, "ds": "2025-06-30", "exception": ValueError("orders.csv: wrong columns")}


@pytest.fixture
def webhook():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_the_log_names_the_night_the_task_and_the_reason(caplog, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_NEXT_STEPS_ALERTS", raising=False)
    with caplog.at_level(logging.ERROR, logger="next_steps.airflow.alerts"):
        alerts.on_task_failure(_context())
    assert (
        "night 2025-06-30, task next_steps_nightly.validate_export failed (try 3): "
        "ValueError: orders.csv: wrong columns" in caplog.text
    )


@pytest.mark.parametrize(
    ("exception", "reason"),
    [
        # a failure of ours says everything in its message
        (
            NightFailed("landing/2025-06-30 has no orders.csv"),
            "landing/2025-06-30 has no orders.csv",
        ),
        # anything else is named by its type: the message alone can be cryptic
        (OSError(28, "No space left on device"), "OSError: [Errno 28] No space left on device"),
        (KeyError("email"), "KeyError: 'email'"),
        (MemoryError(), "MemoryError"),
        (RuntimeError("two\nlines"), "RuntimeError: two lines"),
        (None, "unknown (see the task log)"),
    ],
)
def test_the_reason_names_any_cause_in_one_line(exception, reason):
    assert alerts.describe(exception) == reason


def test_the_alert_is_posted_to_the_connections_webhook(webhook, monkeypatch):
    url, received = webhook
    monkeypatch.setenv(
        "AIRFLOW_CONN_NEXT_STEPS_ALERTS",
        json.dumps({"conn_type": "http", "extra": {"webhook_url": url}}),
    )
    alerts.on_task_failure(_context())
    assert len(received) == 1
    assert {key: received[0][key] for key in ("night", "dag_id", "task_id", "reason")} == {
        "night": "2025-06-30",
        "dag_id": "next_steps_nightly",
        "task_id": "validate_export",
        "reason": "ValueError: orders.csv: wrong columns",
    }


def test_an_unreachable_webhook_is_logged_not_raised(caplog, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_NEXT_STEPS_ALERTS",
        json.dumps({"conn_type": "http", "extra": {"webhook_url": "http://127.0.0.1:9/hook"}}),
    )
    with caplog.at_level(logging.WARNING, logger="next_steps.airflow.alerts"):
        alerts.on_task_failure(_context())
    assert "Could not send the failure alert" in caplog.text
