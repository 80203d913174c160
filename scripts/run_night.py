"""Run one night of ``next_steps_nightly`` through Airflow; fail, and say why, unless every
task of the night ran and succeeded.

``make run DATE=YYYY-MM-DD`` calls this.  It runs ``airflow dags test`` (the DAG runs in
this process with the embedded SQLite metadata), writes Airflow's output to
``<runs>/<DATE>/airflow.log``, then asks the metadata database for the state of every
task of the run.  The night succeeded only if the run succeeded *and* every task of the
DAG has a task instance in state ``success``: a run in which Airflow created no task
(as it does for a logical date before a DAG's ``start_date``) "succeeds" empty, and is
reported here as the failure it is.  ``airflow dags test`` itself exits 0 even when the
run failed.

On failure it prints, on stderr, the cause of each failed task as the task's failure
alert stated it (``next_steps.airflow.alerts``: the exception's type and message, whatever it
is), the tasks that did not run, and the log's path; the exit code is 1.  On success it
prints the night's summary.  A bad argument prints one usage line and exits 2, before
anything starts: ``--check`` does only that (the Makefile runs it with the system
Python, before installing anything).  Local runs do not retry failed tasks unless
NEXT_STEPS_RETRIES says so.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

DAG_ID = "next_steps_nightly"
USAGE = "usage: make run DATE=YYYY-MM-DD (a real calendar date, e.g. DATE=2026-11-20)"
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FINISHED = re.compile(rf"DagRun Finished: dag_id={DAG_ID},.*?run_id=([^,\s]+),.*?state=(\w+)")
# the line next_steps.airflow.alerts logs for every task that fails, whatever the exception
ALERT = re.compile(r"Next steps: night \S+, task \S+ failed \(try \d+\): .*?(?= \[next_steps|$)")
# the last line of a Python traceback, for a failure that raised no alert
EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?([A-Z]\w*(?:Error|Exception|Exit)\b.*)$", re.M)


def parse_night(text: str) -> date:
    """The as-of date ``text`` names: exactly ``YYYY-MM-DD`` and a real calendar day."""
    if not ISO_DATE.fullmatch(text):
        raise ValueError(f"DATE must be YYYY-MM-DD, got {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"DATE {text!r} is not a calendar date") from None


def main(argv: list[str]) -> int:
    check_only = argv[:1] == ["--check"]
    args = argv[1:] if check_only else argv
    if len(args) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        night = parse_night(args[0])
    except ValueError as exc:
        print(f"{exc}. {USAGE}", file=sys.stderr)
        return 2
    if check_only:
        return 0
    return run(night)


def run(night: date) -> int:
    from next_steps.config import Settings
    from next_steps.nightly import night_summary

    settings = Settings.from_env()
    log_path = settings.run_folder(night) / "airflow.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NEXT_STEPS_RETRIES": os.environ.get("NEXT_STEPS_RETRIES", "0")}
    print(f"Running {DAG_ID} for {night} through Airflow (log: {log_path}) ...")
    with open(log_path, "w", encoding="utf-8") as log:
        completed = subprocess.run(
            [_airflow(), "dags", "test", DAG_ID, night.isoformat()],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        )
    output = log_path.read_text(encoding="utf-8", errors="replace")
    finished = FINISHED.findall(output)
    run_id, state = finished[-1] if finished else (None, "unknown")
    states = _task_states(run_id, env) if run_id else {}
    missing = [task for task in _dag_task_ids() if states.get(task) != "success"]
    if completed.returncode == 0 and state == "success" and not missing:
        print(night_summary(night, settings))
        return 0
    print(f"The night {night} FAILED (run state {state}).", file=sys.stderr)
    for cause in _causes(output):
        print(f"  {cause}", file=sys.stderr)
    if missing:
        print(
            "  tasks that did not succeed: "
            + ", ".join(f"{task} ({states.get(task) or 'never created'})" for task in missing),
            file=sys.stderr,
        )
    print(f"Full Airflow output: {log_path}", file=sys.stderr)
    return 1


def _airflow() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _dag_task_ids() -> list[str]:
    """Every task of the nightly DAG, from the DAG file itself."""
    from airflow.dag_processing.dagbag import DagBag

    dags = Path(os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", Path(__file__).parents[1] / "dags"))
    dag = DagBag(dag_folder=dags / f"{DAG_ID}.py").dags[DAG_ID]
    return [task.task_id for task in dag.tasks]


def _task_states(run_id: str, env: dict[str, str]) -> dict[str, str | None]:
    """task id -> state of the run's task instances, from the metadata database."""
    listed = subprocess.run(
        [_airflow(), "tasks", "states-for-dag-run", DAG_ID, run_id, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    match = re.search(r"^\[.*\]$", listed.stdout, re.M)
    if listed.returncode != 0 or not match:
        return {}
    return {row["task_id"]: row["state"] for row in json.loads(match.group(0))}


def _causes(output: str) -> list[str]:
    """Why tasks failed: the failure alerts, else the last exception the log shows."""
    alerts = list(dict.fromkeys(match.group(0) for match in ALERT.finditer(output)))
    if alerts:
        return alerts
    exceptions = EXCEPTION_LINE.findall(output)
    return [exceptions[-1]] if exceptions else []


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
