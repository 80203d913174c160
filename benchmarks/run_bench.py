"""``make bench``: time whole nights at several sizes against two baselines.

For each size it generates an export (about one account per ten orders), runs the
night's stages one process each (validate, load, dbt build, publish + outreach files),
and measures wall time and peak memory (max RSS) of every stage; then it times the two
baselines of ``benchmarks/baselines.py`` on the same files and checks that all three
computed the same ``segment_summary``.  A night on a tiny export gives the fixed cost
(process start-up, imports, dbt's parse), so the data work is what a night costs above it.
Then it runs the next night, a delta export of one day's new and changed orders on top
of that history (the generator's second night), and times it whole: what an ordinary
night costs once the history is in the warehouse.

    python benchmarks/run_bench.py --sizes 100000,1000000,10000000 [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NIGHT = date(2025, 6, 30)
NEXT_NIGHT = NIGHT + timedelta(days=1)
#: Bench stage -> the steps of nightly.STEPS it runs (each stage in its own process, so
#: its peak memory is its own); the night's find_export and summary are not timed.
STAGES = {
    "validate": ("validate_export",),
    "load": ("wait_for_warehouse", "load_warehouse"),
    "dbt build": ("build_models",),
    "files + publish": ("write_outreach_files", "publish_night"),
}
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
#: The size issue #5's targets are set for.
TARGET_ORDERS = 10_000_000


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``command``; return wall seconds, peak RSS in MiB and its stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # wait4 returns the child's own resource usage, so each stage is measured alone
    output = process.stdout.read().decode()
    error = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{error[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, output


def run_stages(data: Path, night: date = NIGHT) -> dict[str, tuple[float, float]]:
    env = {**os.environ, "NEXT_STEPS_DATA_DIR": str(data), "GX_ANALYTICS_ENABLED": "false"}
    results = {}
    for stage, steps in STAGES.items():
        code = (
            "from datetime import date; from next_steps import nightly; "
            f"nightly.run_night(date.fromisoformat('{night}'), 'bench', only={steps!r})"
        )
        print(f"    {stage:<16} ...", end="\r", file=sys.stderr, flush=True)
        seconds, peak, _ = timed([sys.executable, "-c", code], env)
        results[stage] = (seconds, peak)
        print(f"    {stage:<16}{seconds:8.1f} s {peak:8.0f} MiB", file=sys.stderr, flush=True)
    return results


def pipeline_summary(data: Path) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as connection:
        rows = connection.execute(
            "select segment, accounts, orders, revenue from marts.segment_summary "
            "where as_of_date = ? order by segment",
            [NIGHT],
        ).fetchall()
    return [(s, a, o, Decimal(str(r))) for s, a, o, r in rows]


def generate(data: Path, orders: int, first: date = NIGHT, nights: int = 2) -> float:
    """The generator's history of ``orders`` orders on night ``first`` and the delta
    nights after it, into ``data/landing``; returns the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "next_steps.sample.generator",
            "--landing",
            str(data / "landing"),
            "--date",
            first.isoformat(),
            "--orders",
            str(orders),
            "--seed",
            "42",
            "--nights",
            str(nights),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def bench(orders: int, workdir: Path) -> dict:
    data = workdir / f"orders_{orders}"
    shutil.rmtree(data, ignore_errors=True)
    print(f"{orders:,} orders: generating ...", file=sys.stderr, flush=True)
    generate(data, orders)
    stages = run_stages(data)
    export = data / "landing" / NIGHT.isoformat()
    env = {**os.environ}
    baselines = {}
    for how in ("duckdb", "pandas"):
        seconds, peak, output = timed(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "baselines.py"),
                how,
                str(export),
                NIGHT.isoformat(),
            ],
            env,
        )
        rows = [(s, a, o, Decimal(r)) for s, a, o, r in json.loads(output)]
        baselines[how] = (seconds, peak, rows)
        print(f"    baseline {how:<7}{seconds:8.1f} s {peak:8.0f} MiB", file=sys.stderr)
    ours = pipeline_summary(data)
    agree = all(rows == ours for _, _, rows in baselines.values())
    delta = data / "landing" / NEXT_NIGHT.isoformat() / "orders.csv"
    with open(delta, "rb") as handle:
        delta_rows = sum(1 for _ in handle) - 1
    print(f"  next night ({delta_rows:,} order rows):", file=sys.stderr, flush=True)
    next_night = run_stages(data, NEXT_NIGHT)
    shutil.rmtree(data, ignore_errors=True)
    return {
        "orders": orders,
        "stages": stages,
        "baselines": baselines,
        "agree": agree,
        "next_night": next_night,
        "delta_rows": delta_rows,
    }


def _whole(stages: dict[str, tuple[float, float]]) -> tuple[float, float]:
    """Whole night: seconds and peak MiB (each stage is its own process)."""
    return sum(s for s, _ in stages.values()), max(m for _, m in stages.values())


def table(results: list[dict], fixed: dict) -> str:
    fixed_total = _whole(fixed["stages"])[0]
    head = [
        "orders",
        *STAGES,
        "whole night",
        "peak memory",
        "data work",
        "DuckDB floor",
        "pandas script",
        "data work / floor",
        "same summary",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for result in [fixed, *results]:
        total, peak = _whole(result["stages"])
        floor, pandas = result["baselines"]["duckdb"][0], result["baselines"]["pandas"][0]
        work = max(total - fixed_total, 0.0)
        cells = [
            f"{result['orders']:,}",
            *(f"{s:.1f} s" for s, _ in result["stages"].values()),
            f"{total:.1f} s",
            f"{peak:,.0f} MiB",
            f"{work:.1f} s",
            f"{floor:.1f} s",
            f"{pandas:.1f} s",
            f"{work / floor:.1f}x" if floor else "-",
            "yes" if result["agree"] else "NO",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def next_night_table(results: list[dict], fixed: dict) -> str:
    head = ["history (orders)", "its order rows", *STAGES, "whole night", "peak memory"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for result in [fixed, *results]:
        total, peak = _whole(result["next_night"])
        cells = [
            f"{result['orders']:,}",
            f"{result['delta_rows']:,}",
            *(f"{s:.1f} s" for s, _ in result["next_night"].values()),
            f"{total:.1f} s",
            f"{peak:,.0f} MiB",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(results: list[dict], fixed: dict) -> str:
    """Issue #5's targets next to what this run measured (at the largest size run)."""
    largest = max(results, key=lambda result: result["orders"])
    fixed_total = _whole(fixed["stages"])[0]
    total, peak = _whole(largest["stages"])
    work = max(total - fixed_total, 0.0)
    floor, pandas = largest["baselines"]["duckdb"][0], largest["baselines"]["pandas"][0]
    next_total, next_peak = _whole(largest["next_night"])
    size = f"{largest['orders']:,} orders"
    rows = [
        (f"full night, {size}", "<= 60 s (at 10M)", f"{total:.1f} s", total <= 60),
        ("data work / DuckDB floor", "<= 5x", f"{work / floor:.1f}x", work <= 5 * floor),
        ("data work / pandas script", "< 1", f"{work / pandas:.2f}", work < pandas),
        (
            "peak memory",
            "<= 4,096 MiB",
            f"{max(peak, next_peak):,.0f} MiB",
            max(peak, next_peak) <= 4096,
        ),
        (
            f"next night on {size} of history",
            "<= 20 s (at 10M)",
            f"{next_total:.1f} s",
            next_total <= 20,
        ),
        ("fixed cost (200 orders)", "low", f"{fixed_total:.1f} s", None),
    ]
    lines = ["| target | wanted | measured | met |", "|---|---|---|---|"]
    at_target_size = largest["orders"] >= TARGET_ORDERS
    for name, wanted, measured, met in rows:
        if met is None:
            verdict = "-"
        elif not at_target_size:
            verdict = f"not judged below {TARGET_ORDERS:,} orders"
        else:
            verdict = "yes" if met else "**no**"
        lines.append(f"| {name} | {wanted} | {measured} | {verdict} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--write", type=Path, default=None, help="markdown file whose bench section gets the table"
    )
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="next_steps_bench_"))
    fixed = bench(200, workdir)
    results = [bench(size, workdir) for size in sizes]
    machine = (
        f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    report = (
        f"Machine: {machine}. Command: `make bench SIZES={args.sizes}`.\n\n"
        f"Targets (issue #5), measured at the largest size of this run:\n\n"
        f"{targets(results, fixed)}\n\n"
        "A whole night per size (each stage its own process; fixed cost = the 200-order "
        "row; data work = whole night minus fixed cost):\n\n"
        f"{table(results, fixed)}\n\n"
        "The next night: the following export, one day of new and changed orders and the "
        "full accounts snapshot, on top of that history:\n\n"
        f"{next_night_table(results, fixed)}"
    )
    print(report)
    if args.write:
        text = args.write.read_text(encoding="utf-8")
        if START in text:
            before, rest = text.split(START, 1)
            text = before + START + "\n" + report + "\n" + END + rest.split(END, 1)[1]
        else:
            text += f"\n## make bench\n\n{START}\n{report}\n{END}\n"
        args.write.write_text(text, encoding="utf-8")
    return 0 if all(result["agree"] for result in [fixed, *results]) else 1


if __name__ == "__main__":
    sys.exit(main())
