"""``make bench-year``: a year of nights, to show how a night's cost grows with history.

The generator writes a history of ``--orders`` orders (about one account per ten orders)
and then ``--nights`` - 1 daily delta exports (that day's new and changed orders, new
accounts, accounts changing type, status, opt-in and autoship), with ``--steady``: the
active customers and autoships are held at night 1's count (as many lapse as enrol), so
every night's delta is about the same size and only the history grows. Every night runs
whole, one process each (``nightly.run_night``, every step of the DAG in order), and the
bench records its wall time and peak memory, the warehouse file's size and everything on
disk a night keeps (the data folder without the landing exports). The bare-DuckDB floor
(``benchmarks/baselines.py``: one query over night 1's CSV files) is timed before every
night, so each night's time can be read as a multiple of its own floor (a machine's speed
here varies by half within an hour).

Each night's figures are appended to ``<workdir>/nights.jsonl`` as soon as it ends, so a
run that is stopped keeps what it measured. ``--resume`` (with the same ``--workdir``)
goes on from the night after the last one logged, on the warehouse the run left. A
finished log with ``--resume`` only writes the report.

    python benchmarks/run_year.py --nights 365 --orders 1000000 [--write docs/benchmarks.md]
    python benchmarks/run_year.py --nights 365 --orders 1000000 --workdir DIR [--resume]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from run_bench import ROOT, generate, timed

from next_steps.build.warehouse import COPIES_TABLE, copies_recorded

FIRST = date(2025, 6, 30)
START, END = "<!-- bench-year:start -->", "<!-- bench-year:end -->"
CHART = ROOT / "docs" / "bench_year.svg"
MIB = 1024 * 1024


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def kept_parts(data: Path) -> dict[str, int]:
    """Everything on disk a night keeps, by top folder or file of the data folder: the
    warehouse (with its hidden files), outreach, quarantine, runs; not the landing
    exports."""
    parts: dict[str, int] = {}
    for child in data.iterdir():
        if child.name == "landing":
            continue
        name = "warehouse" if child.name.lstrip(".").startswith("warehouse.duckdb") else child.name
        parts[name] = parts.get(name, 0) + _size(child)
    return parts


def _floor(data: Path, env: dict[str, str]) -> float:
    """The bare-DuckDB floor: one query over night 1's CSV files."""
    seconds, _, _ = timed(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "baselines.py"),
            "duckdb",
            str(data / "landing" / FIRST.isoformat()),
            FIRST.isoformat(),
        ],
        env,
    )
    return seconds


def working_copy(warehouse: Path, night: date) -> dict | None:
    """How the night's working copy was made (``ops.warehouse_copies``): its last row for
    the night, or None (a warehouse from before the table, or the first night)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        if not copies_recorded(connection):
            return None
        row = connection.execute(
            "select published_bytes, working_bytes, compacted, seconds "
            f"from {COPIES_TABLE} where as_of_date = ? order by copied_at desc limit 1",
            [night],
        ).fetchone()
    if row is None:
        return None
    return dict(zip(("published_bytes", "working_bytes", "compacted", "seconds"), row))


def read_log(log: Path) -> list[dict]:
    """The nights a run logged, in order (a line cut off by a stop is left out)."""
    rows = []
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return rows


def run_year(workdir: Path, nights: int, orders: int, resume: bool = False) -> dict:
    data, log, plan = workdir / "data", workdir / "nights.jsonl", workdir / "plan.json"
    env = {**os.environ, "NEXT_STEPS_DATA_DIR": str(data), "GX_ANALYTICS_ENABLED": "false"}
    wanted = {"nights": nights, "orders": orders, "first": FIRST.isoformat()}
    if resume and plan.exists():
        planned = json.loads(plan.read_text(encoding="utf-8"))
        if planned != wanted:
            raise SystemExit(f"{workdir} holds a run of {planned}, not {wanted}: no --resume")
        rows = read_log(log)
    else:
        shutil.rmtree(data, ignore_errors=True)
        log.unlink(missing_ok=True)
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"generating {nights} nights on {orders:,} orders ...", file=sys.stderr, flush=True)
        generate(data, orders, FIRST, nights, steady=True)
        plan.write_text(json.dumps(wanted), encoding="utf-8")
        rows = []
    for index in range(len(rows), nights):
        night = FIRST + timedelta(days=index)
        # before every night: a machine's speed varies by half within an hour here, which
        # a floor timed once per run would not see
        floor = _floor(data, env)
        code = (
            "from datetime import date; from next_steps import nightly; "
            f"nightly.run_night(date.fromisoformat('{night}'), 'year')"
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds, peak, _ = timed([sys.executable, "-c", code], env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        row = {
            "night": index + 1,
            "date": night.isoformat(),
            "seconds": seconds,
            # CPU seconds (user + system) of the night's process and its children: what
            # the night cost, much less moved than wall time by other work on the machine
            "cpu_seconds": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "floor": floor,
            "floor_timed": "night",
            "peak_mib": peak,
            "warehouse_bytes": _size(data / "warehouse.duckdb"),
            "parts": kept_parts(data),
            "copy": working_copy(data / "warehouse.duckdb", night),
        }
        row["kept_bytes"] = sum(row["parts"].values())
        with log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
        rows.append(row)
        print(
            f"  night {row['night']:>3} {seconds:7.1f} s cpu {row['cpu_seconds']:7.1f} s "
            f"floor {floor:4.2f} s "
            f"{peak:7.0f} MiB  warehouse "
            f"{row['warehouse_bytes'] / MIB:8.1f} MiB  kept {row['kept_bytes'] / MIB:8.1f} MiB",
            file=sys.stderr,
            flush=True,
        )
    return {"orders": orders, "nights": nights, "rows": rows}


def sampled(rows: list[dict]) -> list[dict]:
    """Nights 1 and 2, about ten between, and the last."""
    step = max(1, len(rows) // 10)
    keep = {0, 1, len(rows) - 1, *range(step - 1, len(rows), step)}
    return [row for index, row in enumerate(rows) if index in keep]


def _ends(rows: list[dict], key: str, count: int = 10) -> tuple[float, float]:
    """Median of ``key`` over nights 2 to ``count`` + 1 and over the last ``count``
    nights: one slow night (another process on the machine) moves neither."""
    early = [row[key] for row in rows[1 : count + 1] if key in row]
    late = [row[key] for row in rows[max(1, len(rows) - count) :] if key in row]
    if not early or not late:
        return float("nan"), float("nan")
    return statistics.median(early), statistics.median(late)


def report(result: dict) -> str:
    rows = result["rows"]
    first, last = rows[0], rows[-1]
    second = rows[1] if len(rows) > 1 else first
    growth = (last["kept_bytes"] - first["kept_bytes"]) / max(1, len(rows) - 1)
    floors = sorted({row["floor"] for row in rows})
    each_night = [row for row in rows if row.get("floor_timed") == "night"]
    if each_night:
        floor_text = (
            "the bare-DuckDB floor timed before every night"
            + (
                f" from night {each_night[0]['night']} (before, at the start of each part of "
                "the run)"
                if len(each_night) < len(rows)
                else ""
            )
            + f", {floors[0]:.2f}-{floors[-1]:.2f} s; each night is read against its own floor"
        )
    elif len(floors) == 1:
        floor_text = f"bare-DuckDB floor in the same run: {floors[0]:.1f} s"
    else:
        floor_text = (
            f"run in {len(floors)} parts (`--resume`), the bare-DuckDB floor timed at the "
            f"start of each: {', '.join(f'{floor:.1f}' for floor in floors)} s; each night "
            "is read against the floor of its own part"
        )
    done = (
        f"{result['nights']} nights"
        if len(rows) == result["nights"]
        else f"{len(rows)} of {result['nights']} nights (the run was stopped there)"
    )
    lines = [
        f"{done} on {result['orders']:,} orders of history "
        f"(`make bench-year NIGHTS={result['nights']} YEAR_ORDERS={result['orders']}`); "
        f"{floor_text}.",
        "",
        "| night | wall | x floor | CPU | peak memory | warehouse file | kept on disk |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {row['night']} | {row['seconds']:.1f} s | {row['seconds'] / row['floor']:.1f} | "
        + (f"{row['cpu_seconds']:.1f} s | " if "cpu_seconds" in row else "- | ")
        + f"{row['peak_mib']:.0f} MiB | {row['warehouse_bytes'] / MIB:.1f} MiB | "
        f"{row['kept_bytes'] / MIB:.1f} MiB |"
        for row in sampled(rows)
    ]
    ratio = (last["seconds"] / last["floor"]) / (second["seconds"] / second["floor"])
    lines += [
        "",
        f"Night {last['night']} / night {second['night']}: {ratio:.2f} x the time"
        + (
            f" in multiples of each one's floor ({last['seconds'] / second['seconds']:.2f} x"
            " in wall time)"
            if len(floors) > 1
            else ""
        )
        + " (issue #15's target: at most 1.25). "
        f"Kept on disk after night {last['night']}: "
        f"{last['kept_bytes'] / first['kept_bytes']:.2f} x night 1 (target: at most 3), "
        f"{growth / MIB:.1f} MiB more per night; the warehouse file "
        f"{(last['warehouse_bytes'] - second['warehouse_bytes']) / max(1, len(rows) - 2) / MIB:.2f}"
        f" MiB more per night after night 2. Chart: `docs/bench_year.svg`.",
    ]
    if len(rows) >= 4:
        count = min(10, (len(rows) - 1) // 2)
        wall_early, wall_late = _ends(rows, "seconds", count)
        cpu_early, cpu_late = _ends(rows, "cpu_seconds", count)
        floors_early, floors_late = _ends(
            [{**row, "in_floors": row["seconds"] / row["floor"]} for row in rows],
            "in_floors",
            count,
        )
        lines += [
            "",
            f"Median of the last {count} nights / median of nights 2-{count + 1}: "
            f"{floors_late / floors_early:.2f} x in multiples of each night's floor "
            f"({floors_early:.1f} -> {floors_late:.1f}), "
            f"{wall_late / wall_early:.2f} x in wall time ({wall_early:.1f} -> "
            f"{wall_late:.1f} s), {cpu_late / cpu_early:.2f} x in CPU time ({cpu_early:.1f} "
            f"-> {cpu_late:.1f} s).",
        ]
    compactions = [row for row in rows if (row.get("copy") or {}).get("compacted")]
    if compactions:
        lines += [
            "",
            f"The working copy was compacted on {len(compactions)} nights "
            "(`NEXT_STEPS_WAREHOUSE_COMPACT_AT`): "
            + ", ".join(
                f"night {row['night']} ({row['copy']['published_bytes'] / MIB:.1f} -> "
                f"{row['copy']['working_bytes'] / MIB:.1f} MiB, {row['copy']['seconds']:.1f} s)"
                for row in compactions
            )
            + f"; the most kept on disk from night {compactions[0]['night']} on: "
            f"{max(row['kept_bytes'] for row in rows[compactions[0]['night'] - 1 :]) / MIB:.1f}"
            " MiB.",
        ]
    if last.get("parts"):
        lines += [
            "",
            f"Kept on disk after night {last['night']}: "
            + ", ".join(
                f"{name} {size / MIB:.1f} MiB"
                for name, size in sorted(last["parts"].items(), key=lambda item: -item[1])
            )
            + " (the night folders of outreach, quarantine and runs are kept "
            "`NEXT_STEPS_KEEP_DAYS` days, 90 by default).",
        ]
    return "\n".join(lines)


def chart(result: dict, width: int = 720, height: int = 260) -> str:
    """Wall time (left scale) and bytes kept on disk (right scale) per night, as SVG."""
    rows = result["rows"]
    left, right, top, bottom = 56, 64, 24, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    max_s = max(row["seconds"] for row in rows) or 1.0
    max_b = max(row["kept_bytes"] for row in rows) or 1

    def x(index: int) -> float:
        return left + plot_w * (index / max(1, len(rows) - 1))

    def line(values: list[float], top_value: float) -> str:
        return " ".join(
            f"{x(i):.1f},{top + plot_h * (1 - value / top_value):.1f}"
            for i, value in enumerate(values)
        )

    seconds = line([row["seconds"] for row in rows], max_s)
    kept = line([row["kept_bytes"] for row in rows], max_b)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
        f"<title>{len(rows)} of {result['nights']} nights on {result['orders']:,} orders</title>"
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#ccc"/>'
        f'<polyline points="{seconds}" fill="none" stroke="#2f6f9f" stroke-width="1.5"/>'
        f'<polyline points="{kept}" fill="none" stroke="#e39b2d" stroke-width="1.5"/>'
        f'<text x="{left}" y="{top - 8}" fill="#2f6f9f">wall time per night '
        f"(max {max_s:.0f} s)</text>"
        f'<text x="{left + plot_w}" y="{top - 8}" fill="#e39b2d" text-anchor="end">kept on '
        f"disk (max {max_b / MIB:.0f} MiB)</text>"
        f'<text x="{left}" y="{height - 10}">night 1</text>'
        f'<text x="{left + plot_w}" y="{height - 10}" text-anchor="end">night '
        f"{len(rows)}</text></svg>\n"
    )


def write_section(path: Path, text: str) -> None:
    document = path.read_text(encoding="utf-8")
    if START in document:
        before, rest = document.split(START, 1)
        document = before + START + "\n" + text + "\n" + END + rest.split(END, 1)[1]
    else:
        document += f"\n## make bench-year\n\n{START}\n{text}\n{END}\n"
    path.write_text(document, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nights", type=int, default=365)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the nights run and nights.jsonl is kept (default: a new temporary folder)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="go on from the last night logged in --workdir (a finished run: report only)",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="report the nights logged in --workdir so far, run none",
    )
    parser.add_argument("--write", type=Path, default=None, help="markdown file to update")
    args = parser.parse_args(argv)
    if args.nights < 2 or args.orders < 1:
        parser.error("--nights must be at least 2 and --orders at least 1")
    if (args.resume or args.report) and args.workdir is None:
        parser.error("--resume and --report need the --workdir of the run")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="next_steps_year_"))
    if args.report:
        rows = read_log(workdir / "nights.jsonl")
        if len(rows) < 2:
            parser.error(f"{workdir / 'nights.jsonl'} holds fewer than two nights")
        result = {"orders": args.orders, "nights": args.nights, "rows": rows}
    else:
        result = run_year(workdir, args.nights, args.orders, resume=args.resume)
        shutil.rmtree(workdir / "data", ignore_errors=True)
    text = report(result)
    print(text)
    if args.write:
        write_section(args.write, text)
        CHART.write_text(chart(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
