"""Run ``dbt build`` for one night through dbt's programmatic runner.

One invocation builds and tests every model (DuckDB admits a single writer, so splitting
models into Airflow tasks would only add start-up time).  dbt's unit tests are left out:
they check the models' logic on fixed fixtures, not the night's data, so they give the
same answer every night; the test suite runs them (``tests/dbt``).  The night's run results
and dbt log are kept under ``<runs>/<YYYY-MM-DD>/dbt/``; dbt's target folder (compiled SQL,
manifest, partial parse) is one for all nights (``Settings.dbt_target_dir``), so a year of
nights does not keep 365 copies of it.  When a model or test
errors or fails, :class:`~next_steps.errors.DbtBuildFailed` names every one of them.

The seeds (the business rules, ``reference``) and the tests that read nothing but seeds
are built when the warehouse does not hold them as the project now defines them (a new
warehouse, a changed seed file, test, macro or dbt var, another dbt), not every night:
68 of the build's 284 nodes, about 2 s of a small night.  ``ops.seeds_built`` records the
fingerprint of what they were built from (:func:`seeds_fingerprint`), in the same working
copy, so a night that fails forgets it with everything else.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from next_steps.build.warehouse import has_tables, remove_scratch_database
from next_steps.config import Settings
from next_steps.errors import DbtBuildFailed

log = logging.getLogger(__name__)

FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})

#: Where each seeding of the warehouse is recorded (``ingest.schema.ensure_schema``).
SEEDS_TABLE = "ops.seeds_built"
#: The schema of the seeds' tables (dbt_project.yml, ``seeds: +schema``).
SEEDS_SCHEMA = "reference"
#: What the seeds' tables and the tests on seeds alone are built from, in the project
#: folder: the seed files and their properties, the project's configuration, the macros
#: and the tests, singular and generic (a change to any of them builds the seeds again).
SEED_INPUTS = ("dbt_project.yml", "seeds", "macros", "tests")
#: Leaves the seeds and the tests whose every parent is a seed out of a build (a test of
#: a model against a seed stays in).
WITHOUT_SEEDS = ("--exclude", "resource_type:seed", "--indirect-selection", "cautious")


@dataclass
class DbtBuildReport:
    """Counts by status and the nodes that did not pass."""

    statuses: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


#: How the nightly build names the night to dbt (the macro ``as_of_date``): an environment
#: variable, not a ``--vars`` entry, because dbt parses the whole project again whenever
#: its command-line vars change, which a new night's date would do every night.
NIGHT_VARIABLE = "NEXT_STEPS_AS_OF_DATE"


def dbt_vars(settings: Settings) -> str:
    """The nightly build's dbt vars, as JSON: the same every night."""
    variables: dict[str, Any] = {
        "reporting_currency": settings.reporting_currency,
        "purchase_models": settings.purchase_models,
    }
    return json.dumps(variables, sort_keys=True)


def dbt_args(
    settings: Settings, night: date, command: str = "build", seeds: bool = True
) -> list[str]:
    """The nightly build's dbt arguments. The vars are the same every night (the night
    itself goes in the environment, see :func:`invoke_dbt`), so each night reuses the
    last parse; only the log folder is the night's. ``seeds=False`` leaves the seeds and
    the tests of seeds alone out of a build or test."""
    arguments = [
        command,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
        "--target-path",
        str(settings.dbt_target_dir),
        "--log-path",
        str(run_results_path(settings, night).parent),
        "--vars",
        dbt_vars(settings),
        "--no-use-colors",
        # the log file keeps each node's status and timing; debug level (every SQL
        # statement, also in target/run) cost about 2 s a night at 300 nodes
        "--log-level-file",
        "info",
    ]
    if command in ("build", "test"):
        arguments += ["--exclude-resource-type", "unit_test"]
        # threads share the build's one DuckDB connection: 2 cut a 1M-order night's
        # dbt build from 21.0 to 16.3 s on 2 cores (its tests run side by side)
        arguments += ["--threads", str(settings.dbt_threads)]
        if not seeds:
            arguments += WITHOUT_SEEDS
    return arguments


def seeds_fingerprint(project_dir: Path, variables: str) -> str:
    """A digest of what the seeds' tables and the tests on seeds alone are built from:
    every file of :data:`SEED_INPUTS` (path and bytes), the dbt vars (``variables``, as
    JSON: a test of a seed may read one, such as the reporting currency's rate) and the
    versions of dbt-core and dbt-duckdb (their built-in tests and seed loading)."""
    from importlib.metadata import version

    digest = hashlib.sha256(variables.encode() + b"\0")
    for package in ("dbt-core", "dbt-duckdb"):
        digest.update(f"{package}=={version(package)}\n".encode())
    for name in SEED_INPUTS:
        path = project_dir / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                digest.update(file.relative_to(project_dir).as_posix().encode() + b"\0")
                digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def seeds_are_built(warehouse: Path, project_dir: Path, fingerprint: str) -> bool:
    """True when ``warehouse`` holds a table for every seed of the project and its last
    seeding was from ``fingerprint``."""
    import duckdb

    if not warehouse.exists():
        return False
    seeds = [f"{SEEDS_SCHEMA}.{path.stem}" for path in (project_dir / "seeds").glob("*.csv")]
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        if not has_tables(connection, SEEDS_TABLE, *seeds):
            return False
        last = connection.execute(
            f"select fingerprint from {SEEDS_TABLE} order by built_at desc limit 1"
        ).fetchone()
    finally:
        connection.close()
    return last is not None and last[0] == fingerprint


def record_seeds_built(warehouse: Path, fingerprint: str, night: date) -> None:
    """Add the night's seeding to :data:`SEEDS_TABLE` in ``warehouse``."""
    import duckdb

    connection = duckdb.connect(str(warehouse))
    try:
        connection.execute(
            f"insert into {SEEDS_TABLE} values (?, ?, current_timestamp)", [fingerprint, night]
        )
    finally:
        connection.close()


def release_connections() -> None:
    """dbt-duckdb keeps its DuckDB connection for the process; close it after the build.

    ``reset_adapters`` drops dbt's adapter, but dbt-duckdb also holds a process-wide
    DuckDB handle that only ``close_all_connections`` releases (the file stays locked
    for other processes until then).
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.factory import reset_adapters

    reset_adapters()
    DuckDBConnectionManager.close_all_connections()


def invoke_dbt(warehouse: Path, arguments: list[str], night: date | None = None):
    """``dbtRunner().invoke(arguments)`` with the profile's DuckDB path set to
    ``warehouse`` and the night (if given) in ``NIGHT_VARIABLE`` for the call, and
    dbt-duckdb's connection released after it."""
    from dbt.cli.main import dbtRunner

    environment = {"NEXT_STEPS_WAREHOUSE": str(warehouse)}
    if night is not None:
        environment[NIGHT_VARIABLE] = night.isoformat()
    previous = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        return dbtRunner().invoke(arguments)
    finally:
        release_connections()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_results_path(settings: Settings, night: date) -> Path:
    """The night's copy of dbt's ``run_results.json``, gzipped (beside its ``dbt.log``)."""
    return settings.run_folder(night) / "dbt" / "run_results.json.gz"


def keep_run_results(written: Path, kept: Path) -> None:
    """The night's copy of dbt's run results, without each node's compiled SQL (half
    the file, and the same every night: the shared target folder has the last build's),
    gzipped: a tenth of its 170 KB, kept for every night of ``NEXT_STEPS_KEEP_DAYS``."""
    results = json.loads(written.read_text(encoding="utf-8"))
    for node_result in results.get("results", []):
        node_result.pop("compiled_code", None)
    kept.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(kept, "wt", encoding="utf-8") as handle:
        json.dump(results, handle)


def read_run_results(path: Path) -> dict[str, Any]:
    """A night's run results as :func:`keep_run_results` kept them."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def run_dbt_build(settings: Settings, night: date) -> DbtBuildReport:
    kept = run_results_path(settings, night)
    written = settings.dbt_target_dir / "run_results.json"
    for stale in (kept, written):  # never an earlier night's results as tonight's
        stale.unlink(missing_ok=True)
    # the tables rebuilt whole every night start from an empty scratch database, never
    # from one a killed build left
    remove_scratch_database(settings.warehouse)
    fingerprint = seeds_fingerprint(settings.dbt_project_dir, dbt_vars(settings))
    seeds = not seeds_are_built(settings.warehouse, settings.dbt_project_dir, fingerprint)
    outcome = invoke_dbt(settings.warehouse, dbt_args(settings, night, seeds=seeds), night)
    if written.exists():
        keep_run_results(written, kept)

    report = DbtBuildReport()
    results = getattr(outcome.result, "results", None) or []
    for node_result in results:
        status = str(getattr(node_result.status, "value", node_result.status))
        report.statuses[status] = report.statuses.get(status, 0) + 1
        line = f"{node_result.node.unique_id} [{status}]: {node_result.message or ''}".strip()
        if status in FAILED_STATUSES:
            report.failures.append(line)
        elif status == "warn":
            report.warnings.append(line)
    for line in report.warnings:
        log.warning("dbt warning: %s", line)
    if outcome.exception is not None:
        raise DbtBuildFailed(f"dbt build for {night} could not run: {outcome.exception}")
    if not outcome.success or report.failures:
        listed = "\n  ".join(report.failures) or "(no node result; see the dbt log)"
        raise DbtBuildFailed(
            f"dbt build for {night} failed ({len(report.failures)} model(s)/test(s)):\n  {listed}\n"
            f"Run results: {kept}"
        )
    # nothing after the build reads them; a failed build keeps them for whoever looks
    remove_scratch_database(settings.warehouse)
    if seeds:
        record_seeds_built(settings.warehouse, fingerprint, night)
    log.info(
        "dbt build for %s passed: %s%s",
        night,
        report.statuses,
        "" if seeds else " (seeds unchanged since their last build: not rebuilt)",
    )
    return report
