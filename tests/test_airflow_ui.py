"""``make airflow``: Airflow's own UI on the embedded SQLite metadata, in one command.

A demo night is run with ``scripts/run_night.py`` (what ``make run`` does); then
``make airflow`` is started as a user starts it.  The test reads the login it prints,
signs in through the REST API and finds the demo night's run; then, under the scheduler
``make airflow`` started, backfills a night of the 1990s, which must run every task.  A
SIGINT to the command's process group (what Ctrl-C sends) must stop everything.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest

from next_steps.sample.generator import generate_export

from airflow_stack import free_port, wait_for
from conftest import dags_test_env

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DEMO_NIGHT = date(1999, 12, 31)
BACKFILLED = date(1996, 3, 31)
NIGHTLY = "next_steps_nightly"
LOGIN = re.compile(r"Airflow UI: (http://localhost:\d+)  login: (\S+)  password: (\S+)")


def _components_of(home: Path) -> list[str]:
    """Airflow processes still running with this Airflow home."""
    alive = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if f"AIRFLOW_HOME={home}\0".encode() in environ and "airflow" in cmdline:
            alive.append(cmdline)
    return alive


def test_make_airflow_shows_the_demo_night_and_its_scheduler_backfills_any_date(tmp_path):
    data, home = tmp_path / "data", tmp_path / "airflow"
    generate_export(data / "landing", DEMO_NIGHT, orders=600, seed=5)
    generate_export(data / "landing", BACKFILLED, orders=600, seed=6)
    env = dags_test_env(data, home)
    # the metadata database and the warehouse pool, as make run prepares them
    subprocess.run(
        ["make", "--no-print-directory", f"{home}/.migrated"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    demo = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_night.py"), DEMO_NIGHT.isoformat()],
        env=env,
        capture_output=True,
        text=True,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr

    port = free_port()
    ui = subprocess.Popen(
        ["make", "--no-print-directory", "airflow", f"AIRFLOW_PORT={port}"],
        cwd=ROOT,
        env={**env, "NEXT_STEPS_RETRIES": "0", "NEXT_STEPS_WAREHOUSE_WAIT_SECONDS": "5"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    output: list[str] = []
    try:
        match = None
        deadline = time.monotonic() + 300
        while match is None and time.monotonic() < deadline:
            line = ui.stdout.readline()
            if not line:
                break
            output.append(line)
            match = LOGIN.search(line)
        assert match, "no login printed:\n" + "".join(output)
        url, user, password = match.groups()
        token = httpx.post(
            f"{url}/auth/token", json={"username": user, "password": password}, timeout=30
        ).json()["access_token"]
        api = httpx.Client(
            base_url=f"{url}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert httpx.post(
            f"{url}/auth/token", json={"username": user, "password": "wrong"}, timeout=30
        ).is_error

        def runs() -> list[dict]:
            response = api.get(f"/dags/{NIGHTLY}/dagRuns")
            return response.json()["dag_runs"] if response.status_code == 200 else []

        demo_runs = wait_for(
            lambda: [r for r in runs() if r["logical_date"].startswith(DEMO_NIGHT.isoformat())],
            120,
            "the demo night's run in the API",
        )
        assert [r["state"] for r in demo_runs] == ["success"]

        subprocess.run(
            [
                str(Path(sys.executable).with_name("airflow")),
                "backfill",
                "create",
                "--dag-id",
                NIGHTLY,
                "--from-date",
                BACKFILLED.isoformat(),
                "--to-date",
                BACKFILLED.isoformat(),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        api.patch(f"/dags/{NIGHTLY}", json={"is_paused": False}).raise_for_status()

        def backfill_finished() -> dict | None:
            for run in runs():
                if run["logical_date"].startswith(BACKFILLED.isoformat()) and run["state"] in (
                    "success",
                    "failed",
                ):
                    return run
            return None

        run = wait_for(backfill_finished, 900, f"the backfill of {BACKFILLED}")
        assert run["run_type"] == "backfill"
        tasks = api.get(f"/dags/{NIGHTLY}/dagRuns/{run['dag_run_id']}/taskInstances").json()
        states = {ti["task_id"]: ti["state"] for ti in tasks["task_instances"]}
        assert run["state"] == "success", states
        assert len(states) == 8 and set(states.values()) == {"success"}, states
        assert (data / "outreach" / BACKFILLED.isoformat() / "_SUCCESS").exists()
    finally:
        if ui.poll() is None:
            os.killpg(ui.pid, signal.SIGINT)  # Ctrl-C
        try:
            ui.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
            raise
    assert wait_for(lambda: not _components_of(home), 60, "every component stopped") is True
