"""``airflow dags test next_steps_nightly D``, then, in the same process, the state of every
task of the run: what ``scripts/run_night.py`` (``make run``) runs.

Airflow starts once.  Before, the runner started it three times: ``dags test``, a
``DagBag`` for the DAG's task ids and ``airflow tasks states-for-dag-run`` for their states
(6 s of a 200-order night's 45 s on this machine).  The run itself is Airflow's own
command, through its own parser; afterwards one line on stdout, :data:`MARK` and JSON,
gives the run's id and state, every task of the DAG file and each one's state
(``None`` when Airflow never created it).  The in-process execution API the tasks talk
to is built for the one API version they speak (:func:`serve_only_the_clients_api_version`).

    python -m next_steps.airflow.night_test YYYY-MM-DD
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

DAG_ID = "next_steps_nightly"
MARK = "next-steps night outcome: "


def read_outcome(output: str) -> dict | None:
    """The outcome line :func:`main` printed into ``output``, or None if it never did."""
    lines = [line for line in output.splitlines() if line.startswith(MARK)]
    return json.loads(lines[-1].removeprefix(MARK)) if lines else None


def _dag_file() -> Path:
    project = Path(__file__).resolve().parents[3]
    return Path(os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", project / "dags")) / f"{DAG_ID}.py"


def _outcome(night: str) -> dict:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils import timezone
    from airflow.utils.session import create_session
    from sqlalchemy import select

    dag = DagBag(dag_folder=_dag_file()).dags[DAG_ID]
    logical_date = timezone.datetime(*map(int, night.split("-")))
    with create_session() as session:
        run = session.scalars(
            select(DagRun)
            .where(DagRun.dag_id == DAG_ID, DagRun.logical_date == logical_date)
            .order_by(DagRun.id.desc())
            .limit(1)
        ).one_or_none()
        states = {}
        if run is not None:
            states = {
                ti.task_id: getattr(ti.state, "value", ti.state)
                for ti in session.scalars(
                    select(TaskInstance).where(
                        TaskInstance.dag_id == DAG_ID, TaskInstance.run_id == run.run_id
                    )
                )
            }
        return {
            "run_id": run.run_id if run is not None else None,
            "state": getattr(run.state, "value", run.state) if run is not None else None,
            "tasks": {task.task_id: states.get(task.task_id) for task in dag.tasks},
        }


def serve_only_the_clients_api_version() -> bool:
    """Build this process's in-process execution API for the one version its client speaks.

    ``dags test`` runs every task against Airflow's execution API in the same process
    (``InProcessExecutionAPI``). Building that app makes Cadwyn generate the routes and
    models of every version the API has ever had (nine in Airflow 3.3): 2.6 s of a
    200-order night, before the first task starts. The only client here is this process's
    own task SDK, which sends its own version (``API_VERSION``). When that is the newest
    version, the app is built with that version alone, and without the routes that exist
    only in older versions; a request for an older version gets a 404. When it is not
    (an Airflow whose SDK and server differ), nothing changes. Returns whether it did.
    """
    from copy import copy

    import airflow.api_fastapi.execution_api.routes as routes
    import airflow.api_fastapi.execution_api.versions as versions
    from airflow.sdk.api.datamodels._generated import API_VERSION
    from cadwyn import HeadVersion, Version, VersionBundle
    from cadwyn.route_generation import _DELETED_ROUTE_TAG

    if str(versions.bundle.versions[0].value) != API_VERSION:
        return False
    # create_task_execution_api_app imports both names from these modules when it runs
    versions.bundle = VersionBundle(HeadVersion(), Version(API_VERSION))
    router = copy(routes.execution_api_router)
    router.routes = [
        route
        for route in routes.execution_api_router.routes
        if _DELETED_ROUTE_TAG not in getattr(route, "tags", ())
    ]
    routes.execution_api_router = router
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: python -m {__spec__.name} YYYY-MM-DD", file=sys.stderr)  # noqa: T201
        return 2
    from airflow.cli import cli_parser
    from airflow.configuration import write_default_airflow_configuration_if_needed

    # what `airflow` itself does before a command (airflow/__main__.py)
    write_default_airflow_configuration_if_needed()
    serve_only_the_clients_api_version()
    arguments = cli_parser.get_parser().parse_args(["dags", "test", DAG_ID, argv[0]])
    code = 0
    try:
        arguments.func(arguments)
    except SystemExit as exc:  # "DagRun failed"
        code = exc.code if isinstance(exc.code, int) else 1
    print(MARK + json.dumps(_outcome(argv[0])), flush=True)  # noqa: T201 - read by run_night.py
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
