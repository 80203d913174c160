"""The nightly next-step run: one export night in, warehouse tables and campaign files out.

Thin by design: every task calls one function of ``next_steps.nightly`` (in ``plugins/``).
"""

from __future__ import annotations

from datetime import date

from airflow.sdk import CronDataIntervalTimetable, dag, task

from next_steps.airflow.assets import MARTS, OUTREACH_FILES
from next_steps.airflow.dag_defaults import default_args, run_step, warehouse_sensor, warehouse_task

DOC_MD = """
### next_steps_nightly

Turns one night's commerce export into next-step lists. The night's **as-of date D** is
the run's logical date: a scheduled run covers the data interval [D, D+1) and starts
after midnight UTC; `airflow dags test next_steps_nightly D` (or `make run DATE=D`)
processes the same night.

| task | what it does | where |
|---|---|---|
| `find_export` | waits up to `NEXT_STEPS_EXPORT_WAIT_MINUTES` for `landing/D/_SUCCESS` | `$NEXT_STEPS_LANDING_DIR/D/` |
| `validate_export` | reads every file into DuckDB, checks its columns, runs the Great Expectations suite's row rules as SQL over every row and Great Expectations itself on a sample | `expectations/*.json`, results in `runs/D/validation/` |
| `wait_for_warehouse` | waits (a sensor) while another night is between loading and publishing, then holds the warehouse for this night until it publishes | `.warehouse.duckdb.lease` beside the warehouse |
| `load_warehouse` | copies the warehouse to a working file, loads night D into `raw.*` (replacing D), quarantines rejected rows | `ops.load_audit`, `ops.quarantined_rows`, `quarantine/D/` |
| `build_models` | `dbt build` (models + tests) for D on the working file: segments, journeys, the distributor ladder, one next step per person, who is listed, held out or suppressed and why, measured lift | run results in `runs/D/dbt/` |
| `write_outreach_files` | from the built working copy: one CSV per campaign and segment (customer and distributor coaching campaigns), the night's `report.html` (segments, charts, who was left out and why, data quality, timings), `manifest.json`, `_SUCCESS`, into a hidden folder; later nights already built are written again only if building D changed their lists (a warning names them). Nothing is visible yet: a full disk fails the night here | `$NEXT_STEPS_OUTREACH_DIR/.incoming-D-*/` |
| `publish_night` | the night, whole: moves the outreach folders into place, then renames the working file over `warehouse.duckdb` (renames only, milliseconds apart; if one fails the others are undone); updates the Assets `next_steps_marts` and `next_steps_outreach_files`, which triggers `next_steps_delivery` | `$NEXT_STEPS_OUTREACH_DIR/D/`, `$NEXT_STEPS_WAREHOUSE` |
| `summarize_night` | logs the segment table and the files written | task log |

**When it fails.** A bad export (missing folder or `_SUCCESS`, missing file, wrong
columns, not UTF-8, no accounts, more than `NEXT_STEPS_MAX_QUARANTINE_SHARE` of a file's
rows rejected) fails without retries and the message names the file and the problem:
fix or re-deliver the export, then clear the whole run (a corrected export replaces the
night). Nothing is published before `publish_night`: until then BI tools keep reading
the last good night and the outreach folder of the night does not appear (or keeps its
previous run), whichever step failed, a full disk included. A failed dbt test
names the model and test; its details are in `runs/D/dbt/run_results.json.gz`. If
`validate_export` says Great Expectations and the SQL row checks disagree, the
translation in `next_steps/ingest/row_rules.py` has a bug (not the export): it names the line
and rule; fix the code, then clear the run. Rows that
break a rule are not loaded and not lost: see `ops.quarantined_rows` (reason per line).
Re-running a night replaces that night's rows and files; it never duplicates them.
A task that fails for good logs one line naming the night, the task and the reason, and
posts it to the webhook of the connection `next_steps_alerts` when there is one
(`docs/production.md`).
Nights take turns on the warehouse (pool `next_steps_warehouse`, and the lease that
`wait_for_warehouse` takes), so a backfill or a cleared earlier night can run beside
the schedule. A night waiting in `wait_for_warehouse` names the night it waits for; if
that night's run was stopped half-way, re-run it from `wait_for_warehouse` (its lease
is taken over), or, after `NEXT_STEPS_WAREHOUSE_LEASE_HOURS`, the waiting night fails
and says how to free the lease.
Who was listed, held out or left out, and why: `marts.outreach_log` and
`marts.suppression_audit`; lift per campaign: `marts.campaign_performance`.
"""


@dag(
    dag_id="next_steps_nightly",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    # No start date: a night is a night whatever its date. Airflow creates no task for a
    # logical date before a DAG's start_date (and the run then "succeeds" empty), so a
    # start date would silently drop every night of a company's history before it.
    # catchup=False: a new deployment schedules from tonight on; history is a backfill.
    start_date=None,
    catchup=False,
    max_active_runs=1,  # nights in order; backfills take turns through the lease
    tags=["next_steps", "nightly", "dbt", "great_expectations"],
    default_args=default_args(),
    doc_md=DOC_MD,
)
def next_steps_nightly() -> None:
    @task
    def find_export(ds: str | None = None) -> dict:
        from next_steps import nightly

        return run_step(nightly.find_export, date.fromisoformat(ds))

    @task
    def validate_export(ds: str | None = None) -> dict:
        from next_steps import nightly

        return run_step(nightly.validate_export, date.fromisoformat(ds))

    @task.sensor(**warehouse_sensor())
    def wait_for_warehouse(ds: str | None = None) -> bool:
        from next_steps import nightly

        return run_step(nightly.take_warehouse, date.fromisoformat(ds), timed=False)

    @task(**warehouse_task())
    def load_warehouse(ds: str | None = None) -> dict:
        from next_steps import nightly

        return run_step(nightly.load_export, date.fromisoformat(ds))

    @task(**warehouse_task())
    def build_models(ds: str | None = None) -> dict:
        from next_steps import nightly

        return run_step(nightly.build_models, date.fromisoformat(ds))

    @task(**warehouse_task())
    def write_outreach_files(ds: str | None = None, run_id: str | None = None) -> dict:
        from next_steps import nightly

        return run_step(nightly.write_outreach_files, date.fromisoformat(ds), run_id)

    @task(outlets=[MARTS, OUTREACH_FILES], **warehouse_task())
    def publish_night(ds: str | None = None, *, outlet_events=None) -> dict:
        from next_steps import nightly

        published = run_step(nightly.publish_night, date.fromisoformat(ds))
        outlet_events[MARTS].extra = {"night": ds}
        outlet_events[OUTREACH_FILES].extra = {
            "night": ds,
            "folder": published["folder"],
            "files": len(published["files"]),
            "rows": sum(published["files"].values()),
            # later nights whose folders building this night rewrote: delivered again too
            "republished": published["republished_nights"],
        }
        return published

    @task
    def summarize_night(ds: str | None = None) -> None:
        from next_steps import nightly

        print(nightly.night_summary(date.fromisoformat(ds)))  # noqa: T201 - the task log is the report

    (
        find_export()
        >> validate_export()
        >> wait_for_warehouse()
        >> load_warehouse()
        >> build_models()
        >> write_outreach_files()
        >> publish_night()
        >> summarize_night()
    )


next_steps_nightly()
