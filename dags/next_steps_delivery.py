"""Deliver each night's outreach files when the nightly run publishes them.

Thin by design: scheduled on the Asset ``next_steps_outreach_files``; the one task calls
``next_steps.publish.delivery.deliver_night`` (in ``plugins/``) for the night the event names.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from next_steps.airflow.assets import OUTREACH_FILES
from next_steps.airflow.dag_defaults import default_args, run_step

DOC_MD = """
### next_steps_delivery

Runs when `next_steps_nightly` publishes a night's outreach folder (the Asset
`next_steps_outreach_files`; its event names the night, and the later nights whose
folders building it rewrote, which are delivered again), not at a clock time. It copies
`$NEXT_STEPS_OUTREACH_DIR/D/` to `$NEXT_STEPS_DELIVERY_URL/D/`: an fsspec URL, a local
folder by default (`<data>/delivered`), or `s3://bucket/prefix` (with `s3fs` and AWS
credentials in the environment) or `sftp://user@host/path` (with `sshfs`).

Every file is checked against the manifest's checksum before anything is sent; the files
go first, then `manifest.json`, then `_SUCCESS`, so the e-mail tool reads a night only
once it is whole. Delivering a night again replaces it.

**When it fails.** A night without a published folder or with a file that no longer
matches its manifest fails without retries (the message names the file): re-run
that night from `write_outreach_files`. An unreachable destination is retried with
back-off; after the retries, fix the destination and clear the task.
"""


@dag(
    dag_id="next_steps_delivery",
    schedule=[OUTREACH_FILES],
    start_date=None,  # runs on the Asset, for nights of any date
    catchup=False,
    tags=["next_steps", "delivery"],
    default_args=default_args(),
    doc_md=DOC_MD,
)
def next_steps_delivery() -> None:
    @task
    def deliver_outreach_files(*, triggering_asset_events=None) -> list[dict]:
        from next_steps.publish.delivery import deliver_night, nights_to_deliver

        nights = nights_to_deliver(
            [event.extra for event in triggering_asset_events[OUTREACH_FILES]]
        )
        # timings are the nightly run's (runs/<D>/timings.json)
        return [run_step(deliver_night, night, timed=False) for night in nights]

    deliver_outreach_files()


next_steps_delivery()
