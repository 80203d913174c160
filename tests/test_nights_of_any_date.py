"""A night is a night, whatever its date, and ``make run`` never reports one that did not
run: a night of the 1990s and the night before the DAG's old start date are processed
like any other; a run in which Airflow created no task fails and says so; a failure
prints its cause whatever it is; a night whose files cannot be written publishes
nothing (BI tools keep the previous night); a bad DATE is refused before anything starts
and no value given to make is ever interpreted by a shell."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from next_steps.sample.generator import generate_export

from conftest import dags_test_env

ROOT = Path(__file__).resolve().parents[1]
NINETIES = date(1996, 3, 31)
# the DAG's start date was 2025-01-01: Airflow created no task for this night
BEFORE_OLD_START = date(2024, 12, 31)
FILES_FAIL = date(2025, 1, 1)


def _run_night(env: dict[str, str], night: date) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_night.py"), night.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _migrated(env: dict[str, str]) -> dict[str, str]:
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True)
    return env


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    base = tmp_path_factory.mktemp("any-date")
    data = base / "data"
    for seed, night in enumerate((NINETIES, BEFORE_OLD_START, FILES_FAIL)):
        generate_export(data / "landing", night, orders=1500, seed=seed + 3)
    # nights decades apart: keep every night's folders (retention has its own test)
    env = _migrated({**dags_test_env(data, base / "airflow"), "NEXT_STEPS_KEEP_DAYS": "0"})
    results = {night: _run_night(env, night) for night in (NINETIES, BEFORE_OLD_START)}
    published = data / "warehouse.duckdb"
    before = _sha256(published)
    # the outreach folder cannot be written: its parent is a file (the cause is an
    # OSError none of our own exceptions names, like a full disk's)
    blocked = base / "not-a-folder"
    blocked.write_text("a file where the outreach folder should be\n")
    results[FILES_FAIL] = _run_night({**env, "NEXT_STEPS_OUTREACH_DIR": str(blocked)}, FILES_FAIL)
    return {
        "data": data,
        "results": results,
        "warehouse_before": before,
        "warehouse_after": _sha256(published),
    }


@pytest.mark.slow
@pytest.mark.parametrize("night", [NINETIES, BEFORE_OLD_START])
def test_a_night_of_any_date_runs_every_task_and_publishes(nights, night):
    result = nights["results"][night]
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Night {night}" in result.stdout
    folder = nights["data"] / "outreach" / night.isoformat()
    assert (folder / "_SUCCESS").exists() and (folder / "manifest.json").exists()
    assert list(folder.rglob("*.csv")), "no outreach file for the night"
    with duckdb.connect(str(nights["data"] / "warehouse.duckdb"), read_only=True) as connection:
        loaded = connection.execute(
            "select count(*) from raw.orders where export_date = ?", [night]
        ).fetchone()[0]
        people = connection.execute(
            "select count(*) from marts.next_steps where as_of_date = ?", [night]
        ).fetchone()[0]
    assert loaded > 1000 and people > 100


@pytest.mark.slow
def test_a_night_whose_files_cannot_be_written_publishes_nothing_and_names_the_cause(nights):
    result = nights["results"][FILES_FAIL]
    assert result.returncode == 1
    assert f"The night {FILES_FAIL} FAILED" in result.stderr
    assert re.search(
        rf"night {FILES_FAIL}, task next_steps_nightly\.write_outreach_files failed "
        r"\(try 1\): FileExistsError: \[Errno 17\] File exists",
        result.stderr,
    ), result.stderr
    assert "publish_night (upstream_failed)" in result.stderr
    assert "Traceback" not in result.stderr
    # BI tools keep the previous night: the published warehouse is the same file
    assert nights["warehouse_after"] == nights["warehouse_before"]
    with duckdb.connect(str(nights["data"] / "warehouse.duckdb"), read_only=True) as connection:
        assert connection.execute("select max(as_of_date) from marts.next_steps").fetchone() == (
            BEFORE_OLD_START,
        )
    assert not (nights["data"] / "outreach" / FILES_FAIL.isoformat()).exists()


@pytest.mark.slow
def test_a_run_in_which_airflow_created_no_task_is_a_failure(tmp_path):
    # the DAG as it was: a start date after the night, so Airflow creates no task and
    # `airflow dags test` reports the empty run as a success
    dags = tmp_path / "dags"
    dags.mkdir()
    source = (ROOT / "dags" / "next_steps_nightly.py").read_text()
    assert "    start_date=None," in source
    (dags / "next_steps_nightly.py").write_text(
        source.replace(
            "    start_date=None,",
            "    start_date=__import__('pendulum').datetime(2025, 1, 1, tz='UTC'),",
        )
    )
    generate_export(tmp_path / "data" / "landing", NINETIES, orders=200, seed=1)
    env = dags_test_env(tmp_path / "data", tmp_path / "airflow")
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags)
    result = _run_night(_migrated(env), NINETIES)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "(run state success)" in result.stderr
    assert "tasks that did not succeed: find_export (never created)" in result.stderr
    assert "summarize_night (never created)" in result.stderr
    assert "Traceback" not in result.stderr


def _make(*argv: str, data: Path) -> subprocess.CompletedProcess:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEXT_STEPS_"))},
        "NEXT_STEPS_DATA_DIR": str(data),
        "AIRFLOW_HOME": str(data / "airflow"),
    }
    return subprocess.run(
        ["make", "--no-print-directory", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-20; touch {marker}",
        "2026-11-20 && touch {marker}",
        '2026-11-20"; touch {marker}; "',
        "$(touch {marker})",
        "`touch {marker}`",
        "$(shell touch {marker})",
        "2026-13-01",
        "2026-02-30",
        "../../tmp",
        "20261120",
        "2026-1-01",
        "",
    ],
)
def test_make_run_refuses_a_bad_date_in_one_line_and_no_shell_runs_it(tmp_path, value):
    marker = tmp_path / "touched"
    result = _make("run", f"DATE={value.format(marker=marker)}", data=tmp_path)
    assert result.returncode != 0
    assert not marker.exists(), "a shell interpreted the value"
    messages = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert len(messages) == 1, result.stderr
    assert "usage: make run DATE=YYYY-MM-DD" in messages[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "airflow").exists(), "something started before DATE was checked"


def test_make_run_without_a_date_prints_the_usage(tmp_path):
    result = _make("run", data=tmp_path)
    assert result.returncode != 0
    assert "usage: make run DATE=YYYY-MM-DD" in result.stderr


@pytest.mark.parametrize(
    "variable", ["DEMO_DATE=2026-11-20; touch {marker}", "DEMO_ORDERS=$(shell touch {marker})"]
)
def test_no_other_make_variable_reaches_a_shell(tmp_path, variable):
    marker = tmp_path / "touched"
    result = _make("generate", variable.format(marker=marker), data=tmp_path)
    assert result.returncode != 0
    assert not marker.exists(), "a shell interpreted the value"
    assert "Traceback" not in result.stderr


def test_the_runner_reads_the_last_outcome_line_airflow_s_process_printed():
    from next_steps.airflow.night_test import MARK, read_outcome

    first = {"run_id": "a", "state": "failed", "tasks": {"find_export": "failed"}}
    last = {"run_id": "b", "state": "success", "tasks": {"find_export": "success"}}
    output = f"log line\n{MARK}{json.dumps(first)}\nmore\n{MARK}{json.dumps(last)}\ntail\n"
    assert read_outcome(output) == last
    # a process that died before printing it leaves the runner no outcome: a failure
    assert read_outcome("Traceback (most recent call last):\n  ...\nImportError: x\n") is None


def test_the_airflow_process_refuses_a_bad_command_line_in_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "next_steps.airflow.night_test"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "usage: python -m next_steps.airflow.night_test YYYY-MM-DD"


def test_the_in_process_execution_api_serves_its_clients_version_alone(monkeypatch):
    import airflow.api_fastapi.execution_api.routes as routes
    import airflow.api_fastapi.execution_api.versions as versions
    from airflow.api_fastapi.execution_api.app import create_task_execution_api_app
    from airflow.sdk.api.datamodels._generated import API_VERSION
    from fastapi.testclient import TestClient

    from next_steps.airflow.night_test import serve_only_the_clients_api_version

    oldest = str(versions.bundle.versions[-1].value)
    assert oldest != API_VERSION  # Airflow's API has older versions to leave out
    # undone after the test: the function replaces both module attributes
    monkeypatch.setattr(versions, "bundle", versions.bundle)
    monkeypatch.setattr(routes, "execution_api_router", routes.execution_api_router)
    assert serve_only_the_clients_api_version()
    assert [str(v.value) for v in versions.bundle.versions] == [API_VERSION]

    client = TestClient(create_task_execution_api_app())
    assert client.get("/health", headers={"airflow-api-version": API_VERSION}).status_code == 200
    assert client.get("/health", headers={"airflow-api-version": oldest}).status_code == 404
