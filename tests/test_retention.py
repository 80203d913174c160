"""A published night removes the night folders older than NEXT_STEPS_KEEP_DAYS, and
nothing else; it gzips the logs and validation results of the nights before it."""

from __future__ import annotations

import json
from datetime import date

from next_steps.config import Settings
from next_steps.publish import retention

NIGHT = date(2025, 6, 30)


def _folders(settings: Settings, names: list[str]) -> None:
    for parent in (settings.outreach_dir, settings.quarantine_dir, settings.runs_dir):
        for name in names:
            (parent / name).mkdir(parents=True)
            (parent / name / "file.csv").write_text("kept?\n")


def test_folders_of_nights_older_than_the_kept_days_are_removed(tmp_path):
    settings = Settings.from_env(
        {"NEXT_STEPS_DATA_DIR": str(tmp_path), "NEXT_STEPS_KEEP_DAYS": "30"}
    )
    # 2025-05-31 is 30 days before the night: the oldest kept; later nights (a backfill
    # of an earlier night) are kept too
    _folders(settings, ["2025-05-30", "2025-05-31", "2025-06-30", "2025-07-15", "2025-13-01"])
    (settings.runs_dir / "dbt_target").mkdir()
    removed = retention.remove_expired(settings, NIGHT)
    parents = (settings.outreach_dir, settings.quarantine_dir, settings.runs_dir)
    assert removed == sorted(parent / "2025-05-30" for parent in parents)
    for parent in parents:
        left = sorted(path.name for path in parent.iterdir())
        expected = ["2025-05-31", "2025-06-30", "2025-07-15", "2025-13-01"]
        assert left == (
            sorted([*expected, "dbt_target"]) if parent == settings.runs_dir else expected
        )


def test_zero_kept_days_keeps_every_folder(tmp_path):
    settings = Settings.from_env(
        {"NEXT_STEPS_DATA_DIR": str(tmp_path), "NEXT_STEPS_KEEP_DAYS": "0"}
    )
    _folders(settings, ["1996-03-31"])
    assert retention.remove_expired(settings, NIGHT) == []
    assert (settings.outreach_dir / "1996-03-31" / "file.csv").exists()


def test_the_default_keeps_ninety_days():
    assert Settings.from_env({}).keep_days == 90


def _run_folder(settings: Settings, name: str) -> None:
    folder = settings.runs_dir / name
    (folder / "dbt").mkdir(parents=True)
    (folder / "validation").mkdir()
    (folder / "airflow.log").write_text(f"airflow {name}\n")
    (folder / "dbt" / "dbt.log").write_text(f"dbt {name}\n" * 1000)
    (folder / "dbt" / "run_results.json.gz").write_bytes(b"kept as it is")
    (folder / "validation" / "orders.json").write_text(f'{{"night": "{name}"}}\n')
    (folder / "timings.json").write_text("{}\n")


def test_earlier_nights_logs_and_results_are_gzipped_and_read_back(tmp_path):
    settings = Settings.from_env({"NEXT_STEPS_DATA_DIR": str(tmp_path)})
    for name in ["2025-06-28", "2025-06-29", "2025-06-30", "2025-07-01"]:
        _run_folder(settings, name)
    (settings.runs_dir / "dbt_target").mkdir()

    written = retention.compress_earlier_runs(settings, NIGHT)

    earlier = [settings.runs_dir / name for name in ("2025-06-28", "2025-06-29")]
    assert written == [
        folder / name
        for folder in earlier
        for name in ("airflow.log.gz", "dbt/dbt.log.gz", "validation/orders.json.gz")
    ]
    for path in written:
        assert path.stat().st_mode & 0o777 == 0o640  # they may hold what the night read
        assert not path.with_suffix("").exists()
    folder = earlier[1]
    assert retention.read_run_file(folder / "dbt" / "dbt.log") == "dbt 2025-06-29\n" * 1000
    assert (folder / "dbt" / "dbt.log.gz").stat().st_size < 1000
    assert retention.read_run_file(folder / "validation" / "orders.json") == (
        '{"night": "2025-06-29"}\n'
    )
    assert (folder / "dbt" / "run_results.json.gz").read_bytes() == b"kept as it is"
    assert (folder / "timings.json").read_text() == "{}\n"
    # the night published and a later one (a backfill of an earlier night) stay plain
    for name in ("2025-06-30", "2025-07-01"):
        assert (settings.runs_dir / name / "dbt" / "dbt.log").is_file()
        assert not list((settings.runs_dir / name).rglob("*.gz.partial"))
    assert retention.read_run_file(folder / "nothing.log") is None
    assert retention.compress_earlier_runs(settings, NIGHT) == []


def test_a_rerun_adds_its_log_and_replaces_its_results(tmp_path):
    settings = Settings.from_env({"NEXT_STEPS_DATA_DIR": str(tmp_path)})
    _run_folder(settings, "2025-06-29")
    retention.compress_earlier_runs(settings, NIGHT)
    folder = settings.runs_dir / "2025-06-29"
    # the night run again: new plain files beside the gzipped ones
    (folder / "airflow.log").write_text("airflow again\n")
    (folder / "validation" / "orders.json").write_text('{"night": "again"}\n')
    assert retention.read_run_file(folder / "validation" / "orders.json") == (
        '{"night": "again"}\n'
    )

    retention.compress_earlier_runs(settings, NIGHT)

    assert retention.read_run_file(folder / "airflow.log") == (
        "airflow 2025-06-29\nairflow again\n"
    )
    assert retention.read_run_file(folder / "validation" / "orders.json") == (
        '{"night": "again"}\n'
    )


def test_make_docs_reads_the_validation_results_of_gzipped_nights(tmp_path):
    from next_steps.publish import docs

    settings = Settings.from_env({"NEXT_STEPS_DATA_DIR": str(tmp_path)})
    for name in ("2025-06-29", "2025-06-30"):
        (settings.runs_dir / name / "validation").mkdir(parents=True)
        (settings.runs_dir / name / "validation" / "orders.json").write_text(
            json.dumps({"file": "orders.csv", "great_expectations_sample": {"result": name}})
        )
    retention.compress_earlier_runs(settings, NIGHT)
    assert (settings.runs_dir / "2025-06-29" / "validation" / "orders.json.gz").is_file()
    assert list(docs._validation_results(settings)) == [
        (date(2025, 6, 29), "orders.csv", "2025-06-29"),
        (NIGHT, "orders.csv", "2025-06-30"),
    ]
