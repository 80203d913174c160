"""The build step: dbt's run results are kept per night, and a failing test fails the
night with a message that names every model and test that did not pass."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from next_steps import nightly
from next_steps.build.dbt_build import read_run_results
from next_steps.config import Settings
from next_steps.errors import DbtBuildFailed

from conftest import account, order, write_export

NIGHT = date(2025, 6, 30)


@pytest.fixture
def loaded_night(settings: Settings) -> Settings:
    write_export(
        settings.export_folder(NIGHT),
        [account("A1"), account("A2", account_type="preferred")],
        [
            order("O1", "A1", "2025-06-01T10:00:00Z"),
            order("O2", "A2", "2025-05-01T10:00:00Z"),
            order("O3", "A2", "2025-06-01T10:00:00Z"),
        ],
    )
    nightly.validate_export(NIGHT, settings)
    nightly.load_export(NIGHT, settings)
    return settings


def test_build_keeps_run_results_per_night(loaded_night):
    statuses = nightly.build_models(NIGHT, loaded_night)
    assert statuses.get("success", 0) + statuses.get("pass", 0) > 50
    night_dbt = loaded_night.run_folder(NIGHT) / "dbt"
    results = read_run_results(night_dbt / "run_results.json.gz")
    # the night keeps its results (gzipped) and log; dbt's target folder is one for all
    # nights
    assert sorted(path.name for path in night_dbt.iterdir()) == ["dbt.log", "run_results.json.gz"]
    assert (loaded_night.dbt_target_dir / "manifest.json").exists()
    # without the compiled SQL, which the shared target folder has
    assert not any("compiled_code" in result for result in results["results"])
    statuses_kept = {result["status"] for result in results["results"]}
    assert statuses_kept <= {"success", "pass", "no-op"}
    assert any(r["unique_id"] == "model.next_steps.segment_summary" for r in results["results"])
    # dbt's unit tests run in the test suite (tests/dbt), not in every night's build
    assert not any(r["unique_id"].startswith("unit_test.") for r in results["results"])


def test_the_next_night_reuses_the_parse_of_the_last(loaded_night):
    """The night reaches dbt in the environment, not in --vars: a var that changes every
    night would make dbt parse the whole project again every night (5 to 8 s here)."""
    from datetime import timedelta

    from next_steps.build.dbt_build import dbt_args, invoke_dbt

    nightly.build_models(NIGHT, loaded_night)
    first_log = (loaded_night.run_folder(NIGHT) / "dbt" / "dbt.log").read_text()
    assert "Starting full parse" in first_log  # no earlier parse to reuse
    following = NIGHT + timedelta(days=1)
    outcome = invoke_dbt(
        loaded_night.working_warehouse, dbt_args(loaded_night, following, "ls"), following
    )
    assert outcome.success
    next_log = (loaded_night.run_folder(following) / "dbt" / "dbt.log").read_text()
    assert "Running with dbt" in next_log
    assert "full parse" not in next_log and "Unable to do partial parsing" not in next_log


def test_failing_tests_are_all_named_in_the_error(loaded_night, tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(
        Settings.from_env().dbt_project_dir,
        project,
        ignore=shutil.ignore_patterns("target", "logs"),
    )
    (project / "tests" / "assert_nobody_is_called_ana.sql").write_text(
        "select account_id from {{ ref('stg_commerce__accounts') }} where first_name = 'Ana'\n"
    )
    (project / "tests" / "assert_there_are_no_orders.sql").write_text(
        "select order_id from {{ ref('stg_commerce__orders') }}\n"
    )
    settings = Settings(**{**loaded_night.__dict__, "dbt_project_dir": Path(project)})
    with pytest.raises(DbtBuildFailed) as failure:
        nightly.build_models(NIGHT, settings)
    message = str(failure.value)
    assert "failed (2 model(s)/test(s))" in message
    assert "test.next_steps.assert_nobody_is_called_ana [fail]" in message
    assert "test.next_steps.assert_there_are_no_orders [fail]" in message
    assert "run_results.json" in message


def test_build_releases_the_warehouse_for_other_processes(loaded_night):
    import subprocess
    import sys

    nightly.build_models(NIGHT, loaded_night)
    # Another process can take the write lock only if dbt closed its connection.
    code = (
        "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('create schema if not "
        "exists probe'); print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(loaded_night.working_warehouse)],
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_a_night_whose_dbt_tests_fail_publishes_nothing(settings, tmp_path):
    from datetime import timedelta

    first, second = NIGHT, NIGHT + timedelta(days=1)
    for night in (first, second):
        write_export(
            settings.export_folder(night),
            [account("A1")],
            [order("O1", "A1", "2025-06-01T10:00:00Z")],
        )
    nightly.run_night(first, "good", settings)
    published = settings.warehouse.read_bytes()
    first_folder = {
        p: p.read_bytes() for p in settings.outreach_folder(first).rglob("*") if p.is_file()
    }

    project = tmp_path / "broken_project"
    shutil.copytree(
        settings.dbt_project_dir, project, ignore=shutil.ignore_patterns("target", "logs")
    )
    (project / "tests" / "assert_no_accounts.sql").write_text(
        "select account_id from {{ ref('stg_commerce__accounts') }}\n"
    )
    broken = Settings(**{**settings.__dict__, "dbt_project_dir": project})
    with pytest.raises(DbtBuildFailed):
        nightly.run_night(second, "bad", broken)

    assert settings.warehouse.read_bytes() == published
    assert not settings.outreach_folder(second).exists()
    assert {
        p: p.read_bytes() for p in settings.outreach_folder(first).rglob("*") if p.is_file()
    } == first_folder


def _seed_only_tests(target_dir: Path) -> set[str]:
    """The tests of the last build's manifest whose every parent is a seed."""
    import json

    nodes = json.loads((target_dir / "manifest.json").read_text())["nodes"]
    return {
        unique_id
        for unique_id, node in nodes.items()
        if node["resource_type"] == "test"
        and node["depends_on"]["nodes"]
        and all(parent.startswith("seed.") for parent in node["depends_on"]["nodes"])
    }


def test_the_seeds_are_built_again_only_when_the_project_changes_them(settings, tmp_path):
    """The business rules (seeds) and the tests on them alone are built on the first
    night and after a change to the project's seeds, tests or macros, not every night;
    a test of a model against a seed runs every night."""
    from datetime import timedelta

    import duckdb

    project = tmp_path / "dbt_project"
    shutil.copytree(
        settings.dbt_project_dir, project, ignore=shutil.ignore_patterns("target", "logs")
    )
    settings = Settings(**{**settings.__dict__, "dbt_project_dir": project})
    nights = [NIGHT + timedelta(days=offset) for offset in range(3)]
    for night in nights:
        write_export(
            settings.export_folder(night),
            [account("A1")],
            [order("O1", "A1", "2025-06-01T10:00:00Z")],
        )

    def built(night: date) -> set[str]:
        results = read_run_results(settings.run_folder(night) / "dbt" / "run_results.json.gz")
        return {result["unique_id"] for result in results["results"]}

    nightly.run_night(nights[0], "first", settings)
    seed_tests = _seed_only_tests(settings.dbt_target_dir)
    seeds = {f"seed.next_steps.{path.stem}" for path in (project / "seeds").glob("*.csv")}
    assert len(seeds) > 5 and len(seed_tests) > 20
    assert seeds | seed_tests <= built(nights[0])

    nightly.run_night(nights[1], "second", settings)
    second = built(nights[1])
    assert not (seeds | seed_tests) & second
    # a test of a model against a seed still runs (indirect selection "cautious")
    assert any(
        "relationships" in unique_id and "next_step_campaigns" in unique_id for unique_id in second
    )

    with open(project / "seeds" / "_reference__seeds.yml", "a", encoding="utf-8") as handle:
        handle.write("# a change to the seeds' properties\n")
    nightly.run_night(nights[2], "third", settings)
    assert seeds | seed_tests <= built(nights[2])

    connection = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        recorded = connection.execute(
            "select as_of_date from ops.seeds_built order by built_at"
        ).fetchall()
    finally:
        connection.close()
    assert [night for (night,) in recorded] == [nights[0], nights[2]]


def test_the_seeds_fingerprint_follows_the_seeds_tests_macros_and_vars(tmp_path):
    from next_steps.build.dbt_build import seeds_fingerprint

    project = tmp_path / "dbt_project"
    shutil.copytree(
        Settings.from_env().dbt_project_dir,
        project,
        ignore=shutil.ignore_patterns("target", "logs"),
    )
    variables = '{"reporting_currency": "USD"}'
    first = seeds_fingerprint(project, variables)
    assert seeds_fingerprint(project, variables) == first
    (project / "models" / "marts" / "segment_summary.sql").write_text("select 1 as changed\n")
    # a model is not what seeds are built from
    assert seeds_fingerprint(project, variables) == first
    # a test of a seed reads the reporting currency
    assert seeds_fingerprint(project, '{"reporting_currency": "EUR"}') != first
    for changed in (
        "seeds/touchpoint_days.csv",
        "macros/stable_bucket.sql",
        "tests/assert_reporting_currency_has_a_rate.sql",
        "dbt_project.yml",
    ):
        before = seeds_fingerprint(project, variables)
        with open(project / changed, "a", encoding="utf-8") as handle:
            handle.write("\n")
        assert seeds_fingerprint(project, variables) != before, changed
