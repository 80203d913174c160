"""A published night removes the night folders older than NEXT_STEPS_KEEP_DAYS, and
nothing else."""

from __future__ import annotations

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
