"""Run one night of ``next_steps_nightly`` through Airflow and fail if the run failed.

``make run DATE=YYYY-MM-DD`` calls this.  It runs ``airflow dags test`` (the DAG runs in
this process with the embedded SQLite metadata), writes Airflow's output to
``<runs>/<DATE>/airflow.log``, and exits non-zero when the DAG run did not succeed
(``airflow dags test`` itself exits 0 even then).  On success it prints the night's
summary.  Local runs do not retry failed tasks unless NEXT_STEPS_RETRIES says so.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

FINISHED = re.compile(r"DagRun Finished: dag_id=next_steps_nightly,.*?state=(\w+)")
TASK_FAILURE = re.compile(
    r"(AirflowFailException|NightFailed|ExportNotReady|ExportFileError|"
    r"DbtBuildFailed)[:(].*"
)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: run_night.py YYYY-MM-DD", file=sys.stderr)
        return 2
    night = date.fromisoformat(argv[0])
    from next_steps.config import Settings
    from next_steps.nightly import night_summary

    settings = Settings.from_env()
    log_path = settings.run_folder(night) / "airflow.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NEXT_STEPS_RETRIES": os.environ.get("NEXT_STEPS_RETRIES", "0")}
    airflow = Path(sys.executable).with_name("airflow")
    print(f"Running next_steps_nightly for {night} through Airflow (log: {log_path}) ...")
    with open(log_path, "w", encoding="utf-8") as log:
        completed = subprocess.run(
            [str(airflow), "dags", "test", "next_steps_nightly", night.isoformat()],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        )
    output = log_path.read_text(encoding="utf-8", errors="replace")
    states = FINISHED.findall(output)
    if completed.returncode != 0 or not states or states[-1] != "success":
        print(
            f"The night {night} FAILED (airflow exit code {completed.returncode}, "
            f"run state {states[-1] if states else 'unknown'}).",
            file=sys.stderr,
        )
        for line in sorted({match.group(0) for match in TASK_FAILURE.finditer(output)}):
            print(f"  {line}", file=sys.stderr)
        print(f"Full Airflow output: {log_path}", file=sys.stderr)
        return 1
    print(night_summary(night, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
