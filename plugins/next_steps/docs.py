"""``make docs``: dbt's documentation and Great Expectations' data docs, as files.

- **dbt** (``<docs>/dbt/index.html``): every model, column, test and seed with its
  description, the lineage graph, and the outreach files and the night's report as
  exposures with their consumers.  Built with ``dbt docs generate --static``: one HTML
  file with everything inside, which opens from a file share.  The catalog (column
  types, row counts) is read from a copy of the published warehouse, so a BI tool or a
  night reading or writing it is never in the way; without a warehouse the catalog is
  empty and the descriptions are still there.
- **Great Expectations** (``<docs>/great_expectations/index.html``): the suites, and the
  validation result of every night in ``runs/`` (the sample that Great Expectations
  itself checks each night, next to the SQL over every row).  The results hold counts,
  never values: ``next_steps.validation`` drops them before saving.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from next_steps.config import Settings
from next_steps.contract import EXPORT_FILES

log = logging.getLogger(__name__)


def build_docs(settings: Settings, out_dir: Path) -> dict[str, Path]:
    """Write both sites under ``out_dir``; return their index pages."""
    return {
        "dbt": build_dbt_docs(settings, out_dir / "dbt"),
        "great_expectations": build_data_docs(settings, out_dir / "great_expectations"),
    }


def _latest_night(settings: Settings) -> date | None:
    nights = [
        date.fromisoformat(folder.name)
        for folder in settings.runs_dir.glob("????-??-??")
        if folder.is_dir()
    ]
    return max(nights, default=None)


def build_dbt_docs(settings: Settings, out_dir: Path) -> Path:
    from next_steps.dbt_build import invoke_dbt
    from next_steps.errors import NightFailed

    night = _latest_night(settings) or datetime.now(UTC).date()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="next_steps_docs_") as scratch:
        warehouse = Path(scratch) / "warehouse.duckdb"
        arguments = [
            "docs",
            "generate",
            "--static",
            "--project-dir",
            str(settings.dbt_project_dir),
            "--profiles-dir",
            str(settings.dbt_project_dir),
            "--target-path",
            str(out_dir),
            "--log-path",
            scratch,
            "--vars",
            json.dumps({"as_of_date": night.isoformat()}),
            "--no-use-colors",
        ]
        if settings.warehouse.exists():
            shutil.copyfile(settings.warehouse, warehouse)
        else:
            arguments.append("--empty-catalog")
        outcome = invoke_dbt(warehouse, arguments)
    if not outcome.success:
        raise NightFailed(f"dbt docs generate failed: {outcome.exception or 'see the dbt log'}")
    # the one self-contained page is the site; the rest of the target folder is dbt's
    index = out_dir / "index.html"
    os.replace(out_dir / "static_index.html", index)
    log.info("dbt docs: %s", index)
    return index


def _validation_results(settings: Settings):
    """(night, file name, saved result) of every night's validation, oldest first."""
    for folder in sorted(settings.runs_dir.glob("????-??-??/validation")):
        night = date.fromisoformat(folder.parent.name)
        for spec in EXPORT_FILES:
            path = folder / f"{spec.name}.json"
            if path.exists():
                saved = json.loads(path.read_text(encoding="utf-8"))
                yield night, saved["file"], saved["great_expectations_sample"]["result"]


def build_data_docs(settings: Settings, out_dir: Path) -> Path:
    """Great Expectations' data docs of the suites and every night's sample result."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    if out_dir.exists():
        shutil.rmtree(out_dir)
    with tempfile.TemporaryDirectory(prefix="next_steps_gx_") as scratch:
        context = gx.get_context(mode="file", project_root_dir=scratch)
        for spec in EXPORT_FILES:
            suite = json.loads((settings.expectations_dir / f"{spec.name}.json").read_text())
            context.suites.add(gx.ExpectationSuite(**suite))
        schema = ExpectationSuiteValidationResultSchema()
        results = 0
        for night, file_name, saved in _validation_results(settings):
            result = schema.load(saved)
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
                run_id=RunIdentifier(
                    run_name=f"night {night.isoformat()}",
                    run_time=datetime(night.year, night.month, night.day, tzinfo=UTC),
                ),
                batch_identifier=file_name,
            )
            context.validation_results_store.set(key, result)
            results += 1
        context.build_data_docs()
        site = Path(scratch) / "gx" / "uncommitted" / "data_docs" / "local_site"
        shutil.copytree(site, out_dir)
    log.info("Great Expectations data docs: %d validation result(s)", results)
    return out_dir / "index.html"


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = Settings.from_env()
    for name, index in build_docs(settings, settings.data_dir / "docs").items():
        print(f"{name}: {index}")  # noqa: T201 - the command's report
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
