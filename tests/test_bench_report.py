"""The benchmark's report judges issue #5's targets only at the size they are set for."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import run_bench


def _result(orders: int, seconds: float, peak: float = 1000.0) -> dict:
    stages = dict.fromkeys(run_bench.STAGES, (seconds, peak))
    return {
        "orders": orders,
        "stages": stages,
        "next_night": stages,
        "delta_rows": orders // 500,
        "baselines": {"duckdb": (4.0, 0, []), "pandas": (60.0, 0, [])},
        "agree": True,
    }


def _verdicts(report: str) -> dict[str, str]:
    rows = [line.split(" | ") for line in report.splitlines()[2:]]
    return {cells[0].strip("| "): cells[3].strip("| ") for cells in rows}


def test_targets_are_judged_at_ten_million_orders():
    fixed = _result(200, 1.0)
    verdicts = _verdicts(run_bench.targets([_result(10_000_000, 20.0)], fixed))
    # whole night 80 s > 60 s; data work 76 s > 5 x 4 s; next night 80 s > 20 s
    assert verdicts["full night, 10,000,000 orders"] == "**no**"
    assert verdicts["data work / DuckDB floor"] == "**no**"
    assert verdicts["peak memory"] == "yes"
    assert verdicts["next night on 10,000,000 orders of history"] == "**no**"
    verdicts = _verdicts(run_bench.targets([_result(10_000_000, 3.0)], fixed))
    assert verdicts["full night, 10,000,000 orders"] == "yes"
    assert verdicts["data work / pandas script"] == "yes"


def test_smaller_runs_are_not_judged_against_the_targets():
    report = run_bench.targets([_result(100_000, 1.0)], _result(200, 1.0))
    verdicts = _verdicts(report)
    assert verdicts["full night, 100,000 orders"] == "not judged below 10,000,000 orders"
    assert "yes" not in verdicts.values()


def test_the_year_report_samples_the_nights_and_states_both_targets():
    import run_year

    rows = [
        {
            "night": n,
            "date": f"2025-07-{n:02d}",
            "seconds": 10.0 + n,
            "floor": 2.0,
            "peak_mib": 500.0,
            "warehouse_bytes": n * 2**20,
            "kept_bytes": (100 + 10 * n) * 2**20,
            "parts": {"warehouse": n * 2**20, "runs": (100 + 9 * n) * 2**20},
        }
        for n in range(1, 31)
    ]
    result = {"orders": 100_000, "nights": 30, "rows": rows}
    report = run_year.report(result)
    table = [
        line for line in report.splitlines() if line.startswith("| ") and "night |" not in line
    ]
    nights = [int(line.split(" | ")[0].strip("| ")) for line in table]
    assert nights[:2] == [1, 2] and nights[-1] == 30 and len(nights) <= 13
    # night 30 / night 2 = 40 / 12; kept 400 / 110 MiB; 10 MiB a night
    assert "3.33 x the time" in report and "3.64 x night 1" in report
    assert "10.0 MiB more per night" in report and "floor in the same run: 2.0 s" in report
    # the warehouse file: 30 - 2 MiB over 28 nights
    assert "the warehouse file 1.00 MiB more per night after night 2" in report
    assert "Kept on disk after night 30: runs 370.0 MiB, warehouse 30.0 MiB" in report
    svg = run_year.chart(result)
    assert svg.count("<polyline") == 2 and svg.startswith("<svg")
    assert len(svg.split('points="')[1].split('"')[0].split()) == 30


def test_a_resumed_year_reads_each_night_against_the_floor_of_its_part(tmp_path):
    import run_year

    def row(n: int, seconds: float, floor: float) -> dict:
        return {
            "night": n,
            "date": f"2025-07-{n:02d}",
            "seconds": seconds,
            "floor": floor,
            "peak_mib": 500.0,
            "warehouse_bytes": 2**20,
            "kept_bytes": 2**20,
            "parts": {"warehouse": 2**20},
        }

    # nights 3 and 4 ran on a machine twice as slow: the same cost in floors
    log = tmp_path / "nights.jsonl"
    rows = [row(1, 20.0, 1.0), row(2, 10.0, 1.0), row(3, 20.0, 2.0), row(4, 20.0, 2.0)]
    log.write_text("\n".join(map(json.dumps, rows)) + '\n{"night": 5, "sec', encoding="utf-8")
    assert run_year.read_log(log) == rows  # the line a stop cut off is left out
    report = run_year.report({"orders": 1000, "nights": 365, "rows": rows})
    assert report.startswith("4 of 365 nights (the run was stopped there)")
    assert (
        "run in 2 parts (`--resume`), the bare-DuckDB floor timed at the start of each: " in report
    )
    assert (
        "Night 4 / night 2: 1.00 x the time in multiples of each one's floor (2.00 x in wall "
        "time)" in report
    )


def test_the_year_bench_needs_its_workdir_to_resume(capsys):
    import run_year

    with pytest.raises(SystemExit) as stopped:
        run_year.main(["--resume"])
    assert stopped.value.code == 2
    assert "--resume and --report need the --workdir of the run" in capsys.readouterr().err
