"""Airflow's own web UI on this machine, in one command: ``make airflow``.

Starts the API server (UI and REST API), the scheduler and the DAG processor on the
embedded SQLite metadata of ``make run`` (``$AIRFLOW_HOME``, LocalExecutor), so the DAGs
and every night run with ``make run`` / ``make demo`` are there to look at.  Prints the
address and the login (user ``admin``; the password is generated once and kept in
``$AIRFLOW_HOME/simple_auth_manager_passwords.json``).  Ctrl-C (or SIGTERM) stops all
three; if one of them stops on its own, the others are stopped too and the exit code is
1.  The port is ``AIRFLOW_PORT`` (default 8080).  DAGs start paused, as Airflow's
default: unpause ``next_steps_nightly`` to let the scheduler run nights.
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
import urllib.request
from pathlib import Path

USER = "admin"
COMPONENTS = {
    "api-server": ["api-server", "--port", "{port}"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
}
USAGE = "usage: make airflow [AIRFLOW_PORT=8080] (a free TCP port, 1024-65535)"


def main() -> int:
    port_text = os.environ.get("AIRFLOW_PORT") or "8080"
    if not port_text.isascii() or not port_text.isdigit() or not 1024 <= int(port_text) <= 65535:
        print(f"AIRFLOW_PORT must be a port number, got {port_text!r}. {USAGE}", file=sys.stderr)
        return 2
    port = int(port_text)
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            print(f"Port {port} is in use. {USAGE}", file=sys.stderr)
            return 2
    home = Path(os.environ["AIRFLOW_HOME"])
    env = {**os.environ, **_settings(home, port)}
    password = json.loads(
        Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).read_text()
    )
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    airflow = str(Path(sys.executable).with_name("airflow"))
    processes: dict[str, subprocess.Popen] = {}
    stopping = False

    def stop(signum=None, frame=None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for name, argv in COMPONENTS.items():
            with open(logs / f"{name}.log", "ab") as log:
                processes[name] = subprocess.Popen(
                    [airflow, *(arg.format(port=port) for arg in argv)],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # stopped by us, not by the terminal's Ctrl-C
                )
        url = f"http://localhost:{port}"
        ready = False
        while not stopping:
            dead = [name for name, process in processes.items() if process.poll() is not None]
            if dead:
                print(
                    f"Airflow's {dead[0]} stopped (exit code {processes[dead[0]].returncode}): "
                    f"see {logs / (dead[0] + '.log')}. Stopping the others.",
                    file=sys.stderr,
                )
                return 1
            if not ready and _answers(f"{url}/api/v2/monitor/health"):
                ready = True
                print(
                    f"Airflow UI: {url}  login: {USER}  password: {password[USER]}\n"
                    f"  metadata: {env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN']}; "
                    f"logs: {logs}/{{api-server,scheduler,dag-processor}}.log\n"
                    "  Ctrl-C stops the API server, the scheduler and the DAG processor.",
                    flush=True,
                )
            time.sleep(1)
        return 0
    finally:
        _stop_all(processes)


def _settings(home: Path, port: int) -> dict[str, str]:
    """The settings all three components share; the password file is made once."""
    passwords = home / "simple_auth_manager_passwords.json"
    if not passwords.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(passwords, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({USER: secrets.token_urlsafe(12)}, handle)
    return {
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        # the components must agree on these; new ones each start
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": os.environ.get(
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}"
        ),
    }


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _stop_all(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
