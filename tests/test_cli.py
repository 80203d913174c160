"""``next-steps``: ``paths`` keeps every name apart from its value, and a bad command
line gets the usage line and one error line, with a non-zero exit and no traceback."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from next_steps.cli import main
from next_steps.config import Settings

NEXT_STEPS = Path(sys.executable).with_name("next-steps")


def test_paths_prints_every_setting_apart_from_its_value(settings, monkeypatch, capsys):
    monkeypatch.setenv("NEXT_STEPS_DELIVERY_CONN_ID", "")
    assert main(["paths"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [item.name for item in fields(Settings)]
    longest = max(names, key=len)
    assert len(longest) >= 20  # max_quarantine_share, warehouse_lease_hours: past 20
    assert len(lines) == len(names)
    split = [line.split(maxsplit=1) for line in lines]
    assert all(len(parts) == 2 for parts in split), lines
    assert [name for name, _ in split] == names
    assert dict(split)[longest] == str(getattr(settings, longest))
    assert dict(split)["max_quarantine_share"] == "0.01"
    assert dict(split)["delivery_conn_id"] == "(none)"
    # two spaces at least after the longest name, and the values in one column
    column = {len(line) - len(value) for line, (_, value) in zip(lines, split)}
    assert column == {len(longest) + 2}


@pytest.mark.parametrize(
    ("argv", "usage", "error"),
    [
        ([], "usage: next-steps ", "the following arguments are required: command"),
        (["bogus"], "usage: next-steps ", "invalid choice: 'bogus'"),
        (["paths", "extra"], "usage: next-steps ", "unrecognized arguments: extra"),
        (["summary"], "usage: next-steps summary ", "required: --date"),
        (["summary", "--date", "2025-13-01"], "usage: next-steps summary ", "--date"),
        (["summary", "--date", "2025-06-30"], "usage: next-steps summary ", "no warehouse at"),
        (["generate", "--bogus"], "usage: next-steps generate ", "required: --landing"),
        (["generate", "--date", "x"], "usage: next-steps generate ", "not a YYYY-MM-DD date"),
    ],
)
def test_a_bad_command_line_gets_one_usage_line_and_an_error(argv, usage, error, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "NEXT_STEPS_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "60"}
    run = subprocess.run(
        [str(NEXT_STEPS), *argv], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 2, run.stderr  # the usage on one line, then the error
    assert lines[0].startswith(usage)
    assert ": error: " in lines[1] and error in lines[1]


def test_a_setting_that_does_not_parse_is_an_error_not_a_traceback(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "NEXT_STEPS_DATA_DIR": str(tmp_path / "data"),
        "NEXT_STEPS_MAX_QUARANTINE_SHARE": "abc",
    }
    run = subprocess.run([str(NEXT_STEPS), "paths"], capture_output=True, text=True, env=env)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "NEXT_STEPS_MAX_QUARANTINE_SHARE='abc' is not a number" in run.stderr.splitlines()[-1]


def test_generate_without_the_sample_package_says_so_in_one_line(monkeypatch, capsys):
    """The production image leaves next_steps.sample out."""
    monkeypatch.setitem(sys.modules, "next_steps.sample", None)
    monkeypatch.delitem(sys.modules, "next_steps.sample.generator", raising=False)
    assert main(["generate", "--orders", "10"]) == 2
    error = capsys.readouterr().err
    assert len(error.splitlines()) == 1 and "not part of this installation" in error
