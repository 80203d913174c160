"""Run one night of ``next_steps_nightly`` through Airflow; fail, and say why, unless every
task of the night ran and succeeded.

``make run DATE=YYYY-MM-DD`` calls this.  It runs ``airflow dags test`` (the DAG runs in
one process with the embedded SQLite metadata: ``python -m next_steps.airflow.night_test``,
which then reads the state of every task of the run in the same process), writes
Airflow's output to ``<runs>/<DATE>/airflow.log`` and reads the outcome from it.  The
night succeeded only if the run succeeded *and* every task of the DAG has a task
instance in state ``success``: a run in which Airflow created no task (as it does for a
logical date before a DAG's ``start_date``) "succeeds" empty, and is reported here as the
failure it is.

On failure it prints, on stderr, the cause of each failed task as the task's failure
alert stated it (``next_steps.airflow.alerts``: the exception's type and message, whatever it
is), the tasks that did not run, and the log's path; the exit code is 1.  On success it
prints the night's summary.  A bad argument prints one usage line and exits 2, before
anything starts: ``--check`` does only that (the Makefile runs it with the system
Python, before installing anything).  Local runs do not retry failed tasks unless
NEXT_STEPS_RETRIES says so.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date

DAG_ID = "next_steps_nightly"
USAGE = "usage: make run DATE=YYYY-MM-DD (a real calendar date, e.g. DATE=2026-11-20)"
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
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
    from next_steps.airflow.night_test import read_outcome
    from next_steps.config import Settings
    from next_steps.nightly import night_summary

    settings = Settings.from_env()
    log_path = settings.run_folder(night) / "airflow.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NEXT_STEPS_RETRIES": os.environ.get("NEXT_STEPS_RETRIES", "0")}
    print(f"Running {DAG_ID} for {night} through Airflow (log: {log_path}) ...")
    with open(log_path, "w", encoding="utf-8") as log:
        completed = subprocess.run(
            [sys.executable, "-m", "next_steps.airflow.night_test", night.isoformat()],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        )
    output = log_path.read_text(encoding="utf-8", errors="replace")
    outcome = read_outcome(output) or {"state": None, "tasks": {}}
    state, tasks = outcome["state"] or "unknown", outcome["tasks"]
    missing = [task for task, task_state in tasks.items() if task_state != "success"]
    if completed.returncode == 0 and state == "success" and tasks and not missing:
        print(night_summary(night, settings))
        return 0
    print(f"The night {night} FAILED (run state {state}).", file=sys.stderr)
    for cause in _causes(output):
        print(f"  {cause}", file=sys.stderr)
    if missing:
        print(
            "  tasks that did not succeed: "
            + ", ".join(f"{task} ({tasks[task] or 'never created'})" for task in missing),
            file=sys.stderr,
        )
    print(f"Full Airflow output: {log_path}", file=sys.stderr)
    return 1


def _causes(output: str) -> list[str]:
    """Why tasks failed: the failure alerts, else the last exception the log shows."""
    alerts = list(dict.fromkeys(match.group(0) for match in ALERT.finditer(output)))
    if alerts:
        return alerts
    exceptions = EXCEPTION_LINE.findall(output)
    return [exceptions[-1]] if exceptions else []


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
