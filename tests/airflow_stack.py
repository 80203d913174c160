"""Airflow as production runs it, on this machine: metadata in a fresh database on the
local PostgreSQL server, and the API server, scheduler and DAG processor (and, for the
CeleryExecutor, a Celery worker on the local Redis) as separate processes.

Used by ``tests/test_production_path.py`` (``free_port`` and ``wait_for`` by
``tests/test_airflow_ui.py`` too); ``docs/production.md`` describes the same setup
for a server.  Everything it starts is stopped, and the database dropped, on ``close()``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg2
from psycopg2 import sql

from next_steps.airflow.dag_defaults import (
    WAREHOUSE_POOL,
    WAREHOUSE_POOL_DESCRIPTION,
    WAREHOUSE_POOL_SLOTS,
)

ROOT = Path(__file__).resolve().parents[1]
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
OPERATOR = "operator"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout: float, what: str, details=None):
    """``condition()``'s first truthy value, asked every 3 s; after ``timeout`` seconds
    the test fails saying what did not happen (and ``details()``, say the logs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(3)
    raise AssertionError(f"{what}: not within {timeout} s" + (f"\n{details()}" if details else ""))


def _admin(statement: sql.Composable) -> None:
    connection = psycopg2.connect(**PG)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


class AirflowStack:
    """A running Airflow with its own metadata database, home and data folder."""

    def __init__(self, base: Path, executor: str = "LocalExecutor") -> None:
        self.base = base
        self.home = base / "airflow"
        self.data = base / "data"
        self.home.mkdir(parents=True)
        self.database = f"next_steps_test_{uuid.uuid4().hex[:10]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.password = secrets.token_urlsafe(16)
        self.processes: dict[str, subprocess.Popen] = {}
        passwords = self.home / "passwords.json"
        passwords.write_text(json.dumps({OPERATOR: self.password}))
        pg_url = f"postgresql+psycopg2://{PG['user']}@{PG['host']}:{PG['port']}/{self.database}"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW_", "AIRFLOW__", "NEXT_STEPS_"))
        }
        self.env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__EXECUTOR=executor,
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=pg_url,
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.url}/execution/",
            # shared by every component, as in docker-compose.yml
            AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(32),
            AIRFLOW__API__SECRET_KEY=secrets.token_urlsafe(32),
            AIRFLOW__API__WORKERS="1",
            # the default auth manager, with one admin whose password the test knows
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{OPERATOR}:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
            # a Redis database of its own, so no queue of another run is picked up
            AIRFLOW__CELERY__BROKER_URL=f"redis://127.0.0.1:6379/{secrets.randbelow(15) + 1}",
            AIRFLOW__CELERY__RESULT_BACKEND=f"db+postgresql://{PG['user']}@{PG['host']}/{self.database}",
            NEXT_STEPS_DATA_DIR=str(self.data),
            # a failure shows at once instead of after minutes of retries; another night
            # holding the warehouse is waited for in 5 s steps instead of 60
            NEXT_STEPS_RETRIES="0",
            NEXT_STEPS_WAREHOUSE_WAIT_SECONDS="5",
            GX_ANALYTICS_ENABLED="false",
            DO_NOT_TRACK="1",
        )
        self.token: str | None = None

    # --- life cycle ---------------------------------------------------------------------

    def start(self, *, worker: bool = False) -> AirflowStack:
        _admin(sql.SQL("create database {}").format(sql.Identifier(self.database)))
        self.cli("db", "migrate")
        self.cli(
            "pools", "set", WAREHOUSE_POOL, str(WAREHOUSE_POOL_SLOTS), WAREHOUSE_POOL_DESCRIPTION
        )
        self._spawn("api-server", "api-server", "--port", str(self.port))
        self._spawn("scheduler", "scheduler")
        self._spawn("dag-processor", "dag-processor")
        if worker:
            self._spawn("celery-worker", "celery", "worker", "--concurrency", "2")
        self._wait_for_api()
        return self

    def close(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        for process in self.processes.values():
            try:
                process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        _admin(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(self.database))
        )

    def _spawn(self, name: str, *argv: str) -> None:
        log = open(self.home / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(
            [AIRFLOW, *argv],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: close() stops its children too
        )

    def cli(self, *argv: str) -> str:
        completed = subprocess.run(
            [AIRFLOW, *argv], env=self.env, capture_output=True, text=True, timeout=600
        )
        assert completed.returncode == 0, (
            f"airflow {' '.join(argv)} failed:\n{completed.stdout[-3000:]}"
            f"{completed.stderr[-3000:]}"
        )
        return completed.stdout

    def logs(self) -> str:
        """The tail of every component's log, for a failure message."""
        return "\n".join(
            f"--- {path.name} ---\n" + path.read_text(errors="replace")[-4000:]
            for path in sorted(self.home.glob("*.log"))
        )

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(
                    f"airflow {name} exited ({process.returncode}):\n{self.logs()}"
                )

    def _wait_for_api(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if httpx.get(f"{self.url}/api/v2/version", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(1)
        else:
            raise AssertionError(f"the API server did not answer in {timeout} s:\n{self.logs()}")
        answer = httpx.post(
            f"{self.url}/auth/token",
            json={"username": OPERATOR, "password": self.password},
            timeout=30,
        )
        assert answer.status_code in (200, 201), answer.text
        self.token = answer.json()["access_token"]

    # --- the REST API, as an operator uses it ---------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = httpx.request(
            method,
            f"{self.url}/api/v2{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
            **kwargs,
        )
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Until the DAG processor has parsed the DAG."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            answer = httpx.get(
                f"{self.url}/api/v2/dags/{dag_id}",
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=30,
            )
            if answer.status_code == 200:
                return
            time.sleep(2)
        raise AssertionError(f"{dag_id} was not parsed in {timeout} s:\n{self.logs()}")

    def dag_runs(self, dag_id: str) -> list[dict]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]

    def wait_for_runs(self, dag_id: str, run_ids: set[str], timeout: float) -> list[dict]:
        """Until the given runs of the DAG have finished; fail with the logs if one of
        them failed.  Other runs are not waited for (after midnight UTC the scheduler
        adds a run of the new day, which has no export in a test)."""
        deadline = time.monotonic() + timeout
        runs: list[dict] = []
        while time.monotonic() < deadline:
            self._check_alive()
            runs = [run for run in self.dag_runs(dag_id) if run["dag_run_id"] in run_ids]
            failed = [run for run in runs if run["state"] == "failed"]
            if failed:
                raise AssertionError(self._failure_report(dag_id, failed))
            done = [run for run in runs if run["state"] == "success"]
            if len(done) == len(run_ids):
                return done
            time.sleep(3)
        states = {run["dag_run_id"]: run["state"] for run in runs}
        raise AssertionError(f"{dag_id}: runs not done in {timeout} s: {states}\n{self.logs()}")

    def _failure_report(self, dag_id: str, runs: list[dict]) -> str:
        lines = []
        for run in runs:
            for ti in self.task_instances(dag_id, run["dag_run_id"]):
                lines.append(f"{run['dag_run_id']} {ti['task_id']}: {ti['state']}")
                if ti["state"] == "failed":
                    for log in (self.home / "logs").rglob(f"*{ti['task_id']}*/attempt=*.log"):
                        if run["dag_run_id"] in str(log):
                            lines.append(log.read_text(errors="replace")[-3000:])
        return f"{dag_id} failed:\n" + "\n".join(lines) + "\n" + self.logs()
