"""How long each step of a night took: the task wrapper
(:func:`next_steps.airflow.dag_defaults.run_step`) records a step's start and end in the
night's ``runs/<D>/timings.json``; the report shows the latest run's steps."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from next_steps.config import Settings
from next_steps.private_files import write_private_json


def timings_path(settings: Settings, night: date) -> Path:
    return settings.run_folder(night) / "timings.json"


def read_timings(settings: Settings, night: date) -> list[tuple[str, float]]:
    """The steps of the night's latest run, in the order they finished, with seconds."""
    path = timings_path(settings, night)
    if not path.exists():
        return []
    steps = json.loads(path.read_text(encoding="utf-8"))["steps"]
    ordered = sorted(steps.items(), key=lambda item: item[1]["finished"])
    return [(step, float(entry["seconds"])) for step, entry in ordered]


def record_timing(
    night: date,
    step: str,
    run_id: str,
    started: datetime,
    finished: datetime,
    settings: Settings | None = None,
) -> None:
    """Add a step's time to the night's ``timings.json``; a new run starts a new file."""
    settings = settings or Settings.from_env()
    path = timings_path(settings, night)
    timings = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if timings.get("run_id") != run_id:
        timings = {"run_id": run_id, "steps": {}}
    timings["steps"][step] = {
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "seconds": round((finished - started).total_seconds(), 3),
    }
    write_private_json(path, timings)
