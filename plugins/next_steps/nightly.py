"""One function per step of a night, and :data:`STEPS`, their order: the DAG
``next_steps_nightly`` runs one task per step, :func:`run_night` runs them in-process.

Every step takes the night (the as-of date D) and reads and writes only that night's
partition, so each can be re-run on its own.  Steps hand data over through files under
``<runs>/<D>/`` (staged rows, validation results, dbt run results), never through XCom.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from next_steps.config import Settings
from next_steps.errors import ExportFileError, NightFailed, WarehouseBusy
from next_steps.ingest.contract import EXPORT_FILES
from next_steps.ingest.exports import locate_export
from next_steps.ingest.load import STAGED_SUFFIX
from next_steps.private_files import DIR_MODE, FILE_MODE, write_private_json

log = logging.getLogger(__name__)


META_SUFFIX = ".meta.json"


def _staged_path(settings: Settings, night: date, name: str) -> Path:
    return settings.run_folder(night) / "staged" / f"{name}{STAGED_SUFFIX}"


def _remove_staged_rows(settings: Settings, night: date) -> None:
    """Once the night is published its staged rows are in the warehouse: a copy of
    them per night would only keep personal data and grow with history.  What was
    staged (``*.meta.json``) stays, so a re-run of load alone says what to do."""
    staged_dir = settings.run_folder(night) / "staged"
    for path in staged_dir.glob(f"*{STAGED_SUFFIX}"):
        path.unlink()
    shutil.rmtree(staged_dir / "duckdb_spill", ignore_errors=True)


def find_export(night: date, settings: Settings | None = None) -> dict[str, Any]:
    """Fail unless the export for the night is complete; return its files."""
    settings = settings or Settings.from_env()
    export = locate_export(
        settings.landing_dir, night, wait_seconds=settings.export_wait_minutes * 60
    )
    log.info("Export for %s: %s (%s)", night, export.path, ", ".join(sorted(export.files)))
    return {"folder": str(export.path), "files": {k: str(v) for k, v in export.files.items()}}


def validate_export(night: date, settings: Settings | None = None) -> dict[str, Any]:
    """Read every file into DuckDB, check every row against its suite, stage the rows
    (with the reasons of the rejected ones) for loading."""
    import duckdb

    from next_steps.ingest import validation

    settings = settings or Settings.from_env()
    export = locate_export(settings.landing_dir, night)
    staged_dir = settings.run_folder(night) / "staged"
    staged_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    staged_dir.chmod(DIR_MODE)  # staged rows hold personal data
    for stale in [*staged_dir.glob(f"*{STAGED_SUFFIX}"), *staged_dir.glob(f"*{META_SUFFIX}")]:
        stale.unlink()
    spill = staged_dir / "duckdb_spill"
    summary: dict[str, Any] = {}
    with duckdb.connect(
        config={"memory_limit": settings.duckdb_memory_limit, "temp_directory": str(spill)}
    ) as connection:
        connection.execute("set enable_progress_bar = false")
        for spec in EXPORT_FILES:
            if spec.name not in export.files:
                continue
            path = export.files[spec.name]
            target = _staged_path(settings, night, spec.name)
            checked = validation.validate_file(
                connection,
                path,
                spec,
                settings.expectations_dir,
                target,
                settings.run_folder(night) / "validation" / f"{spec.name}.json",
            )
            target.chmod(FILE_MODE)
            write_private_json(
                staged_dir / f"{spec.name}{META_SUFFIX}",
                {
                    "file_name": path.name,
                    "source_path": str(path),
                    "checks_run": len(checked.checks),
                    "checks_failed": checked.checks_failed,
                },
            )
            summary[spec.name] = {
                "file": path.name,
                "rows_read": checked.rows_read,
                "rows_rejected_by_checks": checked.rows_rejected,
                "checks_run": len(checked.checks),
                "checks_failed": checked.checks_failed,
                "reader": checked.reader,
            }
            log.info(
                "%s: %d rows read (%s reader), %d rejected by %d failed check(s) of %d; "
                "Great Expectations agreed on a sample of %d rows",
                path.name,
                checked.rows_read,
                checked.reader,
                checked.rows_rejected,
                checked.checks_failed,
                len(checked.checks),
                checked.sample_rows,
            )
    return summary


def take_warehouse(night: date, settings: Settings | None = None) -> bool:
    """One poke of ``wait_for_warehouse``: True once the night holds the warehouse's
    lease, False while another night holds it (see ``next_steps.build.warehouse_lease``)."""
    from next_steps.build import warehouse_lease

    settings = settings or Settings.from_env()
    try:
        warehouse_lease.take(settings.warehouse_lease, night, settings.warehouse_lease_stale_after)
    except WarehouseBusy as busy:
        log.info("%s", busy)
        return False
    log.info("Night %s holds the warehouse until it publishes", night)
    return True


def load_export(night: date, settings: Settings | None = None) -> dict[str, Any]:
    """Load the staged rows into ``raw.*`` of a fresh working copy of the warehouse.

    One transaction: either every file of the night is loaded or none is.  Rejected rows
    go to ``ops.quarantined_rows`` and ``quarantine/<D>/``; a file whose rejected share is
    above ``max_quarantine_share`` fails the night (its quarantine file is still written,
    so the problem can be seen).  The night takes the warehouse's lease (it already
    holds it after ``wait_for_warehouse``); while another night holds it, this raises
    :class:`~next_steps.errors.WarehouseBusy`.
    """
    from next_steps.build import warehouse, warehouse_lease
    from next_steps.ingest import load, quarantine, schema

    settings = settings or Settings.from_env()
    warehouse_lease.take(settings.warehouse_lease, night, settings.warehouse_lease_stale_after)
    rates = settings.dbt_project_dir / "seeds" / "currency_rates.csv"
    copy = warehouse.start_working_copy(
        settings.warehouse,
        settings.working_warehouse,
        compact_at=settings.warehouse_compact_at,
        memory_limit=settings.duckdb_memory_limit,
    )
    if copy is not None and copy.compacted:
        log.info(
            "Working copy compacted: %.1f MiB -> %.1f MiB in %.1f s",
            copy.published_bytes / 2**20,
            copy.working_bytes / 2**20,
            copy.seconds,
        )
    loads: dict[str, load.FileLoad] = {}
    connection = warehouse.connect(
        settings.working_warehouse, memory_limit=settings.duckdb_memory_limit
    )
    try:
        schema.ensure_schema(connection)
        connection.execute("begin transaction")
        if copy is not None:
            warehouse.record_working_copy(connection, night, copy)
        load.prepare_reference_tables(connection, night, rates)
        for spec in EXPORT_FILES:
            staged = _staged_path(settings, night, spec.name)
            meta_path = staged.with_name(f"{spec.name}{META_SUFFIX}")
            if not meta_path.exists():
                # An optional file absent tonight: tonight has none of its rows.
                load.forget_file(connection, spec, night)
                continue
            if not staged.exists():
                raise NightFailed(
                    f"The staged rows of {meta_path.name.removesuffix(META_SUFFIX)} for "
                    f"{night} were removed when the night was published: re-run the night "
                    "from validate_export."
                )
            meta = json.loads(meta_path.read_text())
            loaded = load.load_file(
                connection,
                spec,
                night,
                staged,
                meta["file_name"],
                meta["source_path"],
                meta["checks_run"],
                meta["checks_failed"],
                settings.reporting_currency,
            )
            loads[spec.name] = loaded
            log.info(
                "%s: %d read, %d loaded, %d quarantined (%d held), %d flagged",
                loaded.file_name,
                loaded.rows_read,
                loaded.rows_loaded,
                loaded.rows_quarantined,
                loaded.rows_held,
                loaded.rows_flagged,
            )
        quarantine.write_quarantine_files(connection, night, settings.quarantine_folder(night))
        write_private_json(
            settings.run_folder(night) / "load_audit.json",
            {name: file_load.__dict__ for name, file_load in loads.items()},
        )
        too_broken = [
            file_load
            for file_load in loads.values()
            if file_load.quarantine_share > settings.max_quarantine_share
        ]
        if too_broken:
            raise ExportFileError(
                " ".join(
                    f"{settings.export_folder(night) / file_load.file_name}: "
                    f"{file_load.rows_quarantined:,} of {file_load.rows_read:,} rows rejected "
                    f"({file_load.quarantine_share:.1%}), above "
                    f"the {settings.max_quarantine_share:.1%} limit: the export is probably "
                    "broken and must not drive campaigns."
                    for file_load in too_broken
                )
                + f" Rejected rows and reasons: {settings.quarantine_folder(night)}."
            )
        connection.execute("commit")
    except BaseException:
        with contextlib.suppress(Exception):  # nothing to roll back after a failed commit
            connection.execute("rollback")
        raise
    finally:
        connection.close()
    return {name: file_load.__dict__ for name, file_load in loads.items()}


def build_models(night: date, settings: Settings | None = None) -> dict[str, int]:
    """``dbt build`` for the night, on the working copy of the warehouse."""
    from dataclasses import replace

    from next_steps.build import warehouse_lease
    from next_steps.build.dbt_build import run_dbt_build

    settings = settings or Settings.from_env()
    warehouse_lease.check(settings.warehouse_lease, night)
    _require_working_copy(settings, night, "build_models")
    return run_dbt_build(replace(settings, warehouse=settings.working_warehouse), night).statuses


def write_outreach_files(
    night: date, run_id: str, settings: Settings | None = None
) -> dict[str, Any]:
    """Write the night's outreach folder (lists, ``report.html``, manifest), and the
    folders of later nights whose lists building D changed, from the built working copy,
    into hidden folders: nothing is published yet (``publish_night`` does it).  A full
    disk fails the night here, while BI tools and marketing both still see the previous
    night.  What was staged is recorded in ``runs/<D>/staged_outreach.json``."""
    from next_steps.build import warehouse, warehouse_lease
    from next_steps.publish import figures, outreach, report

    settings = settings or Settings.from_env()
    warehouse_lease.check(settings.warehouse_lease, night)
    _require_working_copy(settings, night, "write_outreach_files")
    staged: list[outreach.StagedNight] = []
    connection = warehouse.connect(settings.working_warehouse, read_only=True)
    try:
        for listing_night, night_lists in outreach.fetch_lists(connection, night).items():
            folder = outreach.stage_night(
                night_lists,
                settings.outreach_dir,
                listing_night,
                run_id,
                settings.export_folder(listing_night),
                only_if_changed=listing_night != night,
                report_html=report.render(figures.gather(connection, listing_night, settings)),
            )
            if folder is not None:
                staged.append(folder)
    finally:
        connection.close()
    record = {
        "night": night.isoformat(),
        "folder": str(settings.outreach_folder(night)),
        "staged": [
            {
                "night": folder.night.isoformat(),
                "folder": str(folder.folder),
                "files": [file.__dict__ for file in folder.files],
            }
            for folder in staged
        ],
    }
    write_private_json(_staged_record(settings, night), record)
    written = _written(record)
    for listing_night in written["republished_nights"]:
        log.warning(
            "The outreach folder of %s, a later night already built, is written again: its "
            "lists were recomputed with %s (cool-down and new steps depend on earlier "
            "nights) and differ from its published folder, or it had none",
            listing_night,
            night,
        )
    return written


def publish_night(night: date, settings: Settings | None = None) -> dict[str, Any]:
    """Publish the night whole: move the staged outreach folders into place, then rename
    the built working copy over the warehouse BI tools read: renames only, which need no
    disk space, milliseconds apart.  If any of them fails, the folders already moved are
    put back: BI tools and marketing both keep the previous night.  Gives the
    warehouse's lease back, then removes the night's staged rows and the night folders
    older than ``keep_days``, and gzips the logs and validation results of earlier
    nights (:mod:`next_steps.publish.retention`)."""
    from next_steps.build import warehouse, warehouse_lease
    from next_steps.publish import outreach, retention

    settings = settings or Settings.from_env()
    warehouse_lease.check(settings.warehouse_lease, night)
    _require_working_copy(settings, night, "publish_night")
    path = _staged_record(settings, night)
    record = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"staged": []}
    staged = [
        outreach.StagedNight(
            date.fromisoformat(item["night"]),
            Path(item["folder"]),
            [outreach.OutreachFile(**file) for file in item["files"]],
        )
        for item in record["staged"]
    ]
    if night not in {folder.night for folder in staged} or not all(
        folder.folder.is_dir() for folder in staged
    ):
        raise NightFailed(
            f"Night {night} has no staged outreach folder: re-run it from write_outreach_files."
        )
    # the folders first, then the warehouse: if the warehouse cannot be renamed, the
    # folders are put back; a rename needs no disk space
    with outreach.swapped_in(staged):
        warehouse.publish_working_copy(settings.working_warehouse, settings.warehouse)
    path.unlink(missing_ok=True)
    warehouse_lease.give_back(settings.warehouse_lease, night)
    _remove_staged_rows(settings, night)
    retention.remove_expired(settings, night)
    retention.compress_earlier_runs(settings, night)
    log.info(
        "Published night %s: the warehouse %s and the outreach folder %s",
        night,
        settings.warehouse,
        settings.outreach_folder(night),
    )
    for folder in staged:
        for file in folder.files:
            log.info("Published %s/%s: %d rows", folder.night, file.path, file.rows)
    return _written(record)


def _staged_record(settings: Settings, night: date) -> Path:
    return settings.run_folder(night) / "staged_outreach.json"


def _written(record: dict[str, Any]) -> dict[str, Any]:
    """The night's folder, its files and the later nights written again (the outreach
    Asset's event names them)."""
    own = next(item for item in record["staged"] if item["night"] == record["night"])
    later = [item["night"] for item in record["staged"] if item["night"] != record["night"]]
    return {
        "folder": record["folder"],
        "files": {file["path"]: file["rows"] for file in own["files"]},
        "republished_nights": later,
    }


def _require_working_copy(settings: Settings, night: date, step: str) -> None:
    if not settings.working_warehouse.exists():
        raise NightFailed(
            f"No working warehouse {settings.working_warehouse}: run load_warehouse for "
            f"{night} first (the whole night, not {step} alone)."
        )


def night_summary(night: date, settings: Settings | None = None) -> str:
    """A short text report: where things are, the segment table, who was listed (or
    why not) and the files written."""
    from next_steps.build import warehouse
    from next_steps.publish import figures

    settings = settings or Settings.from_env()
    connection = warehouse.connect(settings.warehouse, read_only=True)
    try:
        tonight = figures.gather(connection, night, settings)
    finally:
        connection.close()
    # everyone with a step tonight: listed, or why not (suppression_audit)
    listed = sum(campaign["listed"] for campaign in tonight.campaigns)
    outreach = sorted([*tonight.left_out, ("listed", listed)], key=lambda row: (-row[1], row[0]))
    lines = [
        f"Night {night}",
        f"  warehouse (DuckDB, schema marts): {settings.warehouse}",
        f"  outreach files:                   {settings.outreach_folder(night)}",
        f"  quarantined rows:                 {settings.quarantine_folder(night)}",
        "",
        f"  {'file':<18}{'read':>10}{'loaded':>10}{'quarantined':>13}",
    ]
    lines += [
        f"  {f['file_name']:<18}{f['rows_read']:>10,}{f['rows_loaded']:>10,}"
        f"{f['rows_quarantined']:>13,}"
        for f in tonight.files
    ]
    lines += [
        "",
        f"  {'segment':<13}{'accounts':>10}{'orders':>10}{'revenue':>16}{'avg order':>12}",
    ]
    for row in tonight.segments:
        aov = row["average_order_value"]
        aov_text = f"{aov:,.2f}" if aov is not None else "-"
        lines.append(
            f"  {row['segment']:<13}{row['accounts']:>10,}{row['orders']:>10,}"
            f"{row['revenue']:>16,.2f}{aov_text:>12}"
        )
    lines += [
        "",
        *(f"  {sentence}" for sentence in figures.describe_model_fits(tonight.model_fits)),
    ]
    lines += ["", "  people with a next step tonight:"]
    lines += [f"    {reason:<72}{count:>8,}" for reason, count in outreach]
    manifest_path = settings.outreach_folder(night) / "manifest.json"
    lines += ["", "  outreach files (rows):"]
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        lines += [f"    {f['path']:<72}{f['rows']:>8,}" for f in manifest["files"]]
        lines.append(f"    {'total':<72}{manifest['total_rows']:>8,}")
    else:
        lines.append("    (none published for this night)")
    return "\n".join(lines)


@dataclass(frozen=True)
class Step:
    """One step of a night: the task of ``next_steps_nightly`` and the function it runs."""

    task_id: str
    run: Callable[..., Any]
    #: a sensor: ``run`` returns False while it must wait (in this process: busy, raise)
    sensor: bool = False
    #: ``run`` takes the Airflow run id after the night
    takes_run_id: bool = False
    #: between load and publish: a failure for good gives the warehouse's lease back
    holds_warehouse: bool = False


#: A night, in order. The DAG ``next_steps_nightly`` wires one task per step in this order
#: (tests/test_dag_integrity.py holds it to this list); :func:`run_night` runs them in
#: this process, for the tests and the bench.
STEPS: tuple[Step, ...] = (
    Step("find_export", find_export),
    Step("validate_export", validate_export),
    Step("wait_for_warehouse", take_warehouse, sensor=True),
    Step("load_warehouse", load_export, holds_warehouse=True),
    Step("build_models", build_models, holds_warehouse=True),
    Step("write_outreach_files", write_outreach_files, takes_run_id=True, holds_warehouse=True),
    Step("publish_night", publish_night, holds_warehouse=True),
    Step("summarize_night", night_summary),
)


def run_night(
    night: date,
    run_id: str,
    settings: Settings | None = None,
    only: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Run the night's :data:`STEPS` (or ``only`` those task ids) in this process, in
    order, as the DAG does: a sensor that would wait raises
    :class:`~next_steps.errors.WarehouseBusy` instead, and a failure between load and
    publish gives the warehouse back. Returns each step's result by task id."""
    from next_steps.build import warehouse_lease

    settings = settings or Settings.from_env()
    unknown = set(only or ()) - {step.task_id for step in STEPS}
    if unknown:
        raise ValueError(f"no such step: {', '.join(sorted(unknown))}")
    results: dict[str, Any] = {}
    for step in STEPS:
        if only is not None and step.task_id not in only:
            continue
        arguments = (night, run_id) if step.takes_run_id else (night,)
        try:
            results[step.task_id] = step.run(*arguments, settings)
        except BaseException:
            if step.holds_warehouse:
                warehouse_lease.give_back(settings.warehouse_lease, night)
            raise
        if step.sensor and results[step.task_id] is False:
            raise WarehouseBusy(
                f"Night {night}: {step.task_id} would wait, another night holds the warehouse."
            )
    return results


def give_back_warehouse(night: date, settings: Settings | None = None) -> bool:
    """After a step between load and publish failed for good: the night gives the
    warehouse's lease back (if it holds it), so that other nights can load."""
    from next_steps.build import warehouse_lease

    settings = settings or Settings.from_env()
    return warehouse_lease.give_back(settings.warehouse_lease, night)
