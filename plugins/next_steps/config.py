"""Where a night's inputs and outputs live, and how a night runs: :class:`Settings`,
read from the ``NEXT_STEPS_*`` environment variables.

Each variable, its default and its meaning are in the README's "Configuration" table;
the defaults themselves are the field defaults of :class:`Settings` below (the reporting
currency's is the dbt var ``reporting_currency`` of ``dbt_project.yml``), and
``tests/test_one_place_per_rule.py`` checks that the README's table says the same.

The night is built in a working copy of the warehouse (:attr:`Settings.working_warehouse`,
a hidden file beside it) and published with an atomic rename, so BI tools reading
``NEXT_STEPS_WAREHOUSE`` never wait for the night nor see half of it.

Relative paths are taken from the current directory.  ``<project>`` is the folder that
holds ``plugins/``, ``dbt_project/`` and ``expectations/``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    value = env.get(name, "").strip()
    return Path(value).expanduser().resolve() if value else default


def _number(env: Mapping[str, str], name: str, default: float, whole: bool = False) -> float:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value) if whole else float(value)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise ValueError(f"{name}={value!r} is not {kind}.") from None
    if number < 0:
        raise ValueError(f"{name}={value!r} must not be negative.")
    return number


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("on", "true", "1", "yes"):
        return True
    if value in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"{name}={env[name]!r} is not on or off.")


@cache
def dbt_var_default(dbt_project_dir: Path, name: str):
    """The default of a dbt var: the ``vars:`` of ``dbt_project.yml``, its only place."""
    import yaml

    project = yaml.safe_load((dbt_project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
    return project["vars"][name]


@dataclass(frozen=True)
class Settings:
    """Resolved locations and settings for one process."""

    data_dir: Path
    landing_dir: Path
    warehouse: Path
    outreach_dir: Path
    quarantine_dir: Path
    runs_dir: Path
    dbt_project_dir: Path
    expectations_dir: Path
    reporting_currency: str
    export_wait_minutes: float = 0.0
    max_quarantine_share: float = 0.01
    duckdb_memory_limit: str = "3GB"
    #: dbt's threads: nodes that do not depend on each other run side by side in the one
    #: process that writes the DuckDB file (``dbt_build.dbt_args``)
    dbt_threads: int = 2
    delivery_url: str = ""
    delivery_conn_id: str = ""
    warehouse_lease_hours: float = 6.0
    #: a task still running after this long is stopped (and retried like any failure
    #: that is not bad input), so a step that hangs does not hold the warehouse until its
    #: lease goes stale; 0: no limit
    task_timeout_minutes: float = 120.0
    #: task retries after a failure that is not bad input (``make run`` sets 0)
    retries: int = 2
    #: how often ``wait_for_warehouse`` looks whether the warehouse is free
    warehouse_wait_seconds: float = 30.0
    #: night folders (outreach, quarantine, runs) older than this are removed; 0 keeps all
    keep_days: int = 90
    #: ``load_warehouse`` compacts the working copy once the published file is this many
    #: times the size it had after the night built on the last compacted copy
    #: (``next_steps.build.warehouse.compaction_reference``); 0: never
    warehouse_compact_at: float = 1.2
    #: fit the purchase models (the dbt var ``purchase_models``, whose default is the
    #: default here); off: the steps follow the rules alone, as on a night with too little
    #: data
    purchase_models: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = _path(env, "NEXT_STEPS_DATA_DIR", PROJECT_ROOT / "data")
        dbt_project_dir = _path(env, "NEXT_STEPS_DBT_PROJECT_DIR", PROJECT_ROOT / "dbt_project")
        return cls(
            data_dir=data_dir,
            landing_dir=_path(env, "NEXT_STEPS_LANDING_DIR", data_dir / "landing"),
            warehouse=_path(env, "NEXT_STEPS_WAREHOUSE", data_dir / "warehouse.duckdb"),
            outreach_dir=_path(env, "NEXT_STEPS_OUTREACH_DIR", data_dir / "outreach"),
            quarantine_dir=_path(env, "NEXT_STEPS_QUARANTINE_DIR", data_dir / "quarantine"),
            runs_dir=_path(env, "NEXT_STEPS_RUNS_DIR", data_dir / "runs"),
            dbt_project_dir=dbt_project_dir,
            expectations_dir=_path(
                env, "NEXT_STEPS_EXPECTATIONS_DIR", PROJECT_ROOT / "expectations"
            ),
            reporting_currency=env.get("NEXT_STEPS_REPORTING_CURRENCY", "").strip()
            or dbt_var_default(dbt_project_dir, "reporting_currency"),
            export_wait_minutes=_number(
                env, "NEXT_STEPS_EXPORT_WAIT_MINUTES", cls.export_wait_minutes
            ),
            max_quarantine_share=_number(
                env, "NEXT_STEPS_MAX_QUARANTINE_SHARE", cls.max_quarantine_share
            ),
            duckdb_memory_limit=env.get("NEXT_STEPS_DUCKDB_MEMORY_LIMIT", "").strip()
            or cls.duckdb_memory_limit,
            dbt_threads=int(_number(env, "NEXT_STEPS_DBT_THREADS", cls.dbt_threads, whole=True))
            or cls.dbt_threads,
            delivery_url=env.get("NEXT_STEPS_DELIVERY_URL", "").strip()
            or str(data_dir / "delivered"),
            delivery_conn_id=env.get("NEXT_STEPS_DELIVERY_CONN_ID", "").strip(),
            warehouse_lease_hours=_number(
                env, "NEXT_STEPS_WAREHOUSE_LEASE_HOURS", cls.warehouse_lease_hours
            ),
            task_timeout_minutes=_number(
                env, "NEXT_STEPS_TASK_TIMEOUT_MINUTES", cls.task_timeout_minutes
            ),
            retries=int(_number(env, "NEXT_STEPS_RETRIES", cls.retries, whole=True)),
            warehouse_wait_seconds=_number(
                env, "NEXT_STEPS_WAREHOUSE_WAIT_SECONDS", cls.warehouse_wait_seconds
            )
            or cls.warehouse_wait_seconds,
            keep_days=int(_number(env, "NEXT_STEPS_KEEP_DAYS", cls.keep_days, whole=True)),
            warehouse_compact_at=_number(
                env, "NEXT_STEPS_WAREHOUSE_COMPACT_AT", cls.warehouse_compact_at
            ),
            purchase_models=_switch(
                env,
                "NEXT_STEPS_PURCHASE_MODELS",
                bool(dbt_var_default(dbt_project_dir, "purchase_models")),
            ),
        )

    @property
    def working_warehouse(self) -> Path:
        """Where a night is loaded and built before it is published (same folder)."""
        return self.warehouse.with_name(f".{self.warehouse.name}.building")

    @property
    def warehouse_lease(self) -> Path:
        """Which night is between loading and publishing (``next_steps.build.warehouse_lease``)."""
        return self.warehouse.with_name(f".{self.warehouse.name}.lease")

    @property
    def warehouse_lease_stale_after(self) -> timedelta:
        return timedelta(hours=self.warehouse_lease_hours)

    def export_folder(self, night: date) -> Path:
        return self.landing_dir / night.isoformat()

    def outreach_folder(self, night: date) -> Path:
        return self.outreach_dir / night.isoformat()

    def quarantine_folder(self, night: date) -> Path:
        return self.quarantine_dir / night.isoformat()

    def run_folder(self, night: date) -> Path:
        """Validation results, staged rows (until the night is published), dbt's run
        results and log of one night."""
        return self.runs_dir / night.isoformat()

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's target folder, one for every night (compiled SQL, manifest, the partial
        parse the next build starts from): a night keeps only its run results and log."""
        return self.runs_dir / "dbt_target"
