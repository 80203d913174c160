"""One function per step of a night; the DAG ``next_steps_nightly`` calls them in order.

Every step takes the night (the as-of date D) and reads and writes only that night's
partition, so each can be re-run on its own.  Steps hand data over through files under
``<runs>/<D>/`` (staged rows, validation results, dbt run results), never through XCom.
"""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

from next_steps.config import Settings
from next_steps.contract import EXPORT_FILES
from next_steps.errors import ExportFileError, NightFailed
from next_steps.exports import locate_export, raw_text, read_export_file
from next_steps.private_files import DIR_MODE, FILE_MODE, write_private_json
from next_steps.warehouse import STAGED_SUFFIX

log = logging.getLogger(__name__)


def _staged_path(settings: Settings, night: date, name: str) -> Path:
    return settings.run_folder(night) / "staged" / f"{name}{STAGED_SUFFIX}"


def find_export(night: date, settings: Settings | None = None) -> dict[str, Any]:
    """Fail unless the export for the night is complete; return its files."""
    settings = settings or Settings.from_env()
    export = locate_export(
        settings.landing_dir, night, wait_seconds=settings.export_wait_minutes * 60
    )
    log.info("Export for %s: %s (%s)", night, export.path, ", ".join(sorted(export.files)))
    return {"folder": str(export.path), "files": {k: str(v) for k, v in export.files.items()}}


def validate_export(night: date, settings: Settings | None = None) -> dict[str, Any]:
    """Read every file, run its Great Expectations suite, stage its rows for loading."""
    import duckdb
    import pandas as pd

    from next_steps.validation import validate_file

    settings = settings or Settings.from_env()
    export = locate_export(settings.landing_dir, night)
    staged_dir = settings.run_folder(night) / "staged"
    staged_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    staged_dir.chmod(DIR_MODE)  # staged rows hold personal data
    for stale in staged_dir.glob(f"*{STAGED_SUFFIX}"):
        stale.unlink()
    summary: dict[str, Any] = {}
    for spec in EXPORT_FILES:
        if spec.name not in export.files:
            continue
        path = export.files[spec.name]
        parsed = read_export_file(path, spec)
        checked = validate_file(
            parsed,
            settings.expectations_dir,
            settings.run_folder(night) / "validation" / f"{spec.name}.json",
        )
        reasons = [
            "; ".join(checked.reasons[line]) if line in checked.reasons else None
            for line in parsed.lines
        ]
        raw_rows = [
            raw_text([parsed.values[name][i] for name in spec.column_names])
            if reasons[i] is not None
            else None
            for i in range(len(parsed.lines))
        ]
        frame = pd.DataFrame(
            {"source_line": parsed.lines, **parsed.values, "reason": reasons, "raw_row": raw_rows},
            dtype="object",
        )
        if parsed.malformed:
            malformed = pd.DataFrame(
                [
                    {"source_line": line, "reason": reason, "raw_row": raw}
                    for line, raw, reason in parsed.malformed
                ],
                columns=frame.columns,
                dtype="object",
            )
            frame = pd.concat([frame, malformed], ignore_index=True)
        frame["source_line"] = frame["source_line"].astype("int64")
        target = _staged_path(settings, night, spec.name)
        with duckdb.connect() as connection:
            connection.register("staged_frame", frame)
            connection.execute(
                "copy (select * from staged_frame order by source_line) to ? (format parquet)",
                [str(target)],
            )
        target.chmod(FILE_MODE)
        write_private_json(
            staged_dir / f"{spec.name}.meta.json",
            {
                "file_name": path.name,
                "source_path": str(path),
                "checks_run": len(checked.checks),
                "checks_failed": checked.checks_failed,
            },
        )
        rejected = sum(1 for reason in reasons if reason) + len(parsed.malformed)
        summary[spec.name] = {
            "file": path.name,
            "rows_read": parsed.rows_read,
            "rows_rejected_by_checks": rejected,
            "checks_run": len(checked.checks),
            "checks_failed": checked.checks_failed,
        }
        log.info(
            "%s: %d rows read, %d rejected by %d failed check(s) of %d",
            path.name,
            parsed.rows_read,
            rejected,
            checked.checks_failed,
            len(checked.checks),
        )
    return summary


def load_export(night: date, settings: Settings | None = None) -> dict[str, Any]:
    """Load the staged rows into ``raw.*`` of a fresh working copy of the warehouse.

    One transaction: either every file of the night is loaded or none is.  Rejected rows
    go to ``ops.quarantined_rows`` and ``quarantine/<D>/``; a file whose rejected share is
    above ``max_quarantine_share`` fails the night (its quarantine file is still written,
    so the problem can be seen).
    """
    from next_steps import warehouse

    settings = settings or Settings.from_env()
    rates = settings.dbt_project_dir / "seeds" / "currency_rates.csv"
    warehouse.start_working_copy(settings.warehouse, settings.working_warehouse)
    loads: dict[str, warehouse.FileLoad] = {}
    connection = warehouse.connect(settings.working_warehouse)
    try:
        warehouse.ensure_schema(connection)
        connection.execute("begin transaction")
        warehouse.prepare_reference_tables(connection, night, rates)
        for spec in EXPORT_FILES:
            staged = _staged_path(settings, night, spec.name)
            if not staged.exists():
                # An optional file absent tonight: tonight has none of its rows.
                warehouse.forget_file(connection, spec, night)
                continue
            meta = json.loads(staged.with_name(f"{spec.name}.meta.json").read_text())
            loaded = warehouse.load_file(
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
            warehouse.refresh_known_keys(connection, night)
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
        warehouse.write_quarantine_files(connection, night, settings.quarantine_folder(night))
        write_private_json(
            settings.run_folder(night) / "load_audit.json",
            {name: load.__dict__ for name, load in loads.items()},
        )
        too_broken = [
            load for load in loads.values() if load.quarantine_share > settings.max_quarantine_share
        ]
        if too_broken:
            raise ExportFileError(
                " ".join(
                    f"{settings.export_folder(night) / load.file_name}: {load.rows_quarantined:,} "
                    f"of {load.rows_read:,} rows rejected ({load.quarantine_share:.1%}), above "
                    f"the {settings.max_quarantine_share:.1%} limit: the export is probably "
                    "broken and must not drive campaigns."
                    for load in too_broken
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
    return {name: load.__dict__ for name, load in loads.items()}


def build_models(night: date, settings: Settings | None = None) -> dict[str, int]:
    """``dbt build`` for the night, on the working copy of the warehouse."""
    from dataclasses import replace

    from next_steps.dbt_build import run_dbt_build

    settings = settings or Settings.from_env()
    if not settings.working_warehouse.exists():
        raise NightFailed(
            f"No working warehouse {settings.working_warehouse}: run load_warehouse for "
            f"{night} first (the whole night, not build_models alone)."
        )
    return run_dbt_build(replace(settings, warehouse=settings.working_warehouse), night).statuses


def publish_warehouse(night: date, settings: Settings | None = None) -> str:
    """Swap the built night in for the warehouse BI tools read (an atomic rename)."""
    from next_steps import warehouse

    settings = settings or Settings.from_env()
    warehouse.publish_working_copy(settings.working_warehouse, settings.warehouse)
    log.info("Published the warehouse with night %s: %s", night, settings.warehouse)
    return str(settings.warehouse)


def write_outreach_files(
    night: date, run_id: str, settings: Settings | None = None
) -> dict[str, Any]:
    from next_steps import outreach, warehouse

    settings = settings or Settings.from_env()
    connection = warehouse.connect(settings.warehouse, read_only=True)
    try:
        lists = outreach.fetch_lists(connection, night)
    finally:
        connection.close()
    files = []
    republished = []
    for listing_night, night_lists in lists.items():
        written = outreach.publish_night(
            night_lists,
            settings.outreach_dir,
            listing_night,
            run_id,
            settings.export_folder(listing_night),
            only_if_changed=listing_night != night,
        )
        if listing_night == night:
            files = written
        elif written is not None:
            republished.append(listing_night.isoformat())
            log.warning(
                "Wrote the outreach folder of %s, a later night already built: its lists "
                "were recomputed with %s (cool-down and new steps depend on earlier nights) "
                "and differ from its published folder, or it had none",
                listing_night,
                night,
            )
    for file in files:
        log.info("Wrote %s: %d rows", file.path, file.rows)
    return {
        "folder": str(settings.outreach_folder(night)),
        "files": {file.path: file.rows for file in files},
        "republished_nights": republished,
    }


def night_summary(night: date, settings: Settings | None = None) -> str:
    """A short text report: where things are, the segment table, who was listed (or
    why not) and the files written."""
    from next_steps import warehouse

    settings = settings or Settings.from_env()
    connection = warehouse.connect(settings.warehouse, read_only=True)
    try:
        segments = connection.execute(
            "select segment, accounts, orders, revenue, average_order_value "
            "from marts.segment_summary s where as_of_date = ? "
            "order by (select sort_order from reference.segment_bands b where b.segment = s.segment)"
            " nulls last, segment",
            [night],
        ).fetchall()
        audit = connection.execute(
            "select file_name, rows_read, rows_loaded, rows_quarantined from ops.load_audit "
            "where export_date = ? order by file_name",
            [night],
        ).fetchall()
        # everyone with a step tonight: listed, or why not (suppression_audit)
        outreach = connection.execute(
            "select reason, count(*) from marts.suppression_audit where as_of_date = ? "
            "group by reason union all "
            "select 'listed', count(*) from marts.outreach_log "
            "where as_of_date = ? and outcome = 'listed' order by 2 desc, 1",
            [night, night],
        ).fetchall()
    finally:
        connection.close()
    lines = [
        f"Night {night}",
        f"  warehouse (DuckDB, schema marts): {settings.warehouse}",
        f"  outreach files:                   {settings.outreach_folder(night)}",
        f"  quarantined rows:                 {settings.quarantine_folder(night)}",
        "",
        f"  {'file':<18}{'read':>10}{'loaded':>10}{'quarantined':>13}",
    ]
    lines += [f"  {f:<18}{r:>10,}{lo:>10,}{q:>13,}" for f, r, lo, q in audit]
    lines += [
        "",
        f"  {'segment':<13}{'accounts':>10}{'orders':>10}{'revenue':>16}{'avg order':>12}",
    ]
    for segment, accounts, orders, revenue, aov in segments:
        aov_text = f"{aov:,.2f}" if aov is not None else "-"
        lines.append(f"  {segment:<13}{accounts:>10,}{orders:>10,}{revenue:>16,.2f}{aov_text:>12}")
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


def run_whole_night(night: date, run_id: str, settings: Settings | None = None) -> None:
    """Every step of the night in this process, in the DAG's order (for tests and
    benchmarks; operators run the DAG)."""
    settings = settings or Settings.from_env()
    find_export(night, settings)
    validate_export(night, settings)
    load_export(night, settings)
    build_models(night, settings)
    publish_warehouse(night, settings)
    write_outreach_files(night, run_id, settings)
