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

Then the same two nights run again, as an operator runs them: ``make run DATE=...``
(Airflow included, on an Airflow home migrated once before the clock starts), on a fresh
data folder.  At the largest size, the export reshaped by ``benchmarks/unlike_export.py``
(deep sponsor trees, heavily skewed buyers, no order lines) runs its two nights the same
way, with its own floor.  Issue #15's targets are judged on the ``make run`` nights, in
multiples of the floor of the same run.

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

import duckdb

from next_steps.build.dbt_build import read_run_results

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


def airflow_home(workdir: Path) -> Path:
    """An Airflow home with a migrated SQLite database (made once per bench, untimed):
    ``make run`` is timed as an operator runs it on a machine already set up."""
    home = workdir / "airflow_template"
    if not (home / ".migrated").exists():
        env = {**os.environ, **_airflow_env(home)}
        subprocess.run(
            ["make", "--no-print-directory", "-C", str(ROOT), str(home / ".migrated")],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return home


def _airflow_env(home: Path) -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
    }


def make_run(landing: Path, data: Path, template: Path, nights: tuple[date, ...]) -> list[dict]:
    """Run ``nights`` one after the other through ``make run DATE=...`` (Airflow
    included), on a fresh data folder and a copy of the migrated Airflow home; for each,
    wall seconds, peak memory (the largest process of the run) and the seconds of each
    task (the night's ``timings.json``)."""
    shutil.rmtree(data, ignore_errors=True)
    home = data / "airflow"
    shutil.copytree(template, home)
    env = {
        **os.environ,
        **_airflow_env(home),
        "NEXT_STEPS_DATA_DIR": str(data),
        "NEXT_STEPS_LANDING_DIR": str(landing),
        "GX_ANALYTICS_ENABLED": "false",
    }
    results = []
    for night in nights:
        print(f"    make run {night} ...", end="\r", file=sys.stderr, flush=True)
        seconds, peak, _ = timed(
            ["make", "--no-print-directory", "-C", str(ROOT), "run"],
            {**env, "DATE": night.isoformat()},
        )
        steps = json.loads((data / "runs" / night.isoformat() / "timings.json").read_text())
        tasks = {task: float(entry["seconds"]) for task, entry in steps["steps"].items()}
        results.append(
            {"night": night.isoformat(), "seconds": seconds, "peak": peak, "tasks": tasks}
        )
        print(
            f"    make run {night}{seconds:8.1f} s {peak:8.0f} MiB (tasks {sum(tasks.values()):.1f} s)",
            file=sys.stderr,
            flush=True,
        )
    return results


#: the bare-DuckDB floor at 10M orders on a quiet day: issue #16 gives its budget in seconds
#: on such a day (15 s), judged here as the same multiple of the floor of the run
QUIET_FLOOR_SECONDS = 5.7
#: the dbt nodes of issue #16's purchase models: the per-account summary they read (a table
#: kept up to date and the view adding the night), the fits, and the night's data tests on
#: the fits and on the predictions view (which score every account of the night)
PURCHASE_MODEL_NODES = (
    "int_transactions_summarised_to_date",
    "int_transactions_summarised_to_accounts",
    "purchase_model_fits",
)


#: the dbt nodes of issue #17's offers: the product lines and facts, the offers, the marts
#: BI reads and the offline evaluation
OFFER_NODES = (
    "int_order_lines_resolved",
    "int_account_products",
    "int_account_first_baskets",
    "int_product_pairs_counted",
    "int_product_transitions_counted",
    "int_accounts_offered_by_rule",
    "int_accounts_offered",
    "product_affinities",
    "next_product_transitions",
    "offer_evaluation",
)


def node_seconds(
    data: Path, night: date, models: tuple[str, ...], tested: tuple[str, ...]
) -> dict[str, float]:
    """Execution seconds of ``models`` in a night's dbt build (its run results), and
    of the data tests on any of ``tested`` summed as ``tests``."""
    results = read_run_results(data / "runs" / night.isoformat() / "dbt" / "run_results.json.gz")
    seconds: dict[str, float] = {}
    for node in results["results"]:
        kind, _, name = node["unique_id"].split(".", 2)
        if kind == "model" and name.split(".")[-1] in models:
            seconds[name.split(".")[-1]] = node["execution_time"]
        elif kind == "test" and any(model in name for model in tested):
            seconds["tests"] = seconds.get("tests", 0.0) + node["execution_time"]
    return seconds


def offer_cost(data: Path, night: date = NIGHT) -> dict:
    """What the offers add to a night: node seconds, the order lines they read, and the
    night's offline evaluation (``marts.offer_evaluation``)."""
    seconds = node_seconds(data, night, OFFER_NODES, OFFER_NODES)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as connection:
        (lines,) = connection.execute("select count(*) from raw.order_lines").fetchone()
        evaluation = connection.execute(
            "select offer_rule, buyers_evaluated, buyers_with_offer, hit_rate_at_1, "
            "hit_rate_at_3, baseline_hit_rate_at_1, baseline_hit_rate_at_3 "
            "from marts.offer_evaluation where as_of_date = ? order by offer_rule",
            [night],
        ).fetchall()
    return {"seconds": seconds, "order_lines": lines, "evaluation": evaluation}


def purchase_model_cost(data: Path, night: date = NIGHT) -> dict:
    """Node seconds of the purchase models in a night's dbt run (its run results),
    and how many accounts they fitted and scored."""
    seconds = node_seconds(
        data, night, PURCHASE_MODEL_NODES, ("customer_predictions", "purchase_model_fits")
    )
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as connection:
        (accounts,) = connection.execute(
            "select max(customers) from marts.purchase_model_fits "
            "where as_of_date = ? and model = 'bg_nbd'",
            [night],
        ).fetchone()
    return {"seconds": seconds, "accounts": accounts or 0}


def pipeline_summary(data: Path) -> list[tuple]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as connection:
        rows = connection.execute(
            "select segment, accounts, orders, revenue from marts.segment_summary "
            "where as_of_date = ? order by segment",
            [NIGHT],
        ).fetchall()
    return [(s, a, o, Decimal(str(r))) for s, a, o, r in rows]


def generate(
    data: Path, orders: int, first: date = NIGHT, nights: int = 2, steady: bool = False
) -> float:
    """The generator's history of ``orders`` orders on night ``first`` and the delta
    nights after it, into ``data/landing`` (``steady``: the generator's ``--steady``);
    returns the seconds it took."""
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
            *(["--steady"] if steady else []),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def baseline(how: str, export: Path) -> tuple[float, float, list[tuple]]:
    """Time one baseline of ``benchmarks/baselines.py`` on ``export``, in its own process."""
    seconds, peak, output = timed(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "baselines.py"),
            how,
            str(export),
            NIGHT.isoformat(),
        ],
        {**os.environ},
    )
    print(f"    baseline {how:<7}{seconds:8.1f} s {peak:8.0f} MiB", file=sys.stderr)
    return seconds, peak, [(s, a, o, Decimal(r)) for s, a, o, r in json.loads(output)]


def bench(orders: int, workdir: Path, template: Path, unlike: bool = False) -> dict:
    """One size: the night and the next one stage by stage (one process each), the two
    baselines, the same two nights through ``make run``; with ``unlike``, the two nights
    of the reshaped export (``unlike_export.py``) through ``make run`` and its floor."""
    data = workdir / f"orders_{orders}"
    shutil.rmtree(data, ignore_errors=True)
    print(f"{orders:,} orders: generating ...", file=sys.stderr, flush=True)
    generate(data, orders)
    landing = data / "landing"
    stages = run_stages(data)
    baselines = {how: baseline(how, landing / NIGHT.isoformat()) for how in ("duckdb", "pandas")}
    ours = pipeline_summary(data)
    agree = all(rows == ours for _, _, rows in baselines.values())
    with open(landing / NEXT_NIGHT.isoformat() / "orders.csv", "rb") as handle:
        delta_rows = sum(1 for _ in handle) - 1
    print(f"  next night ({delta_rows:,} order rows):", file=sys.stderr, flush=True)
    next_night = run_stages(data, NEXT_NIGHT)
    print("  through make run:", file=sys.stderr, flush=True)
    operated = workdir / f"orders_{orders}_make_run"
    made = make_run(landing, operated, template, (NIGHT, NEXT_NIGHT))
    agree = agree and pipeline_summary(operated) == ours
    purchase_models = purchase_model_cost(operated)
    offers = offer_cost(operated)
    result = {
        "orders": orders,
        "stages": stages,
        "baselines": baselines,
        "agree": agree,
        "next_night": next_night,
        "delta_rows": delta_rows,
        "make_run": made,
        "purchase_models": purchase_models,
        "offers": offers,
    }
    if unlike:
        import unlike_export

        print("  an unlike export (deep tree, skewed buyers, no order lines):", file=sys.stderr)
        reshaped = workdir / f"unlike_{orders}"
        shapes = unlike_export.reshape(landing, reshaped / "landing")
        floor = baseline("duckdb", reshaped / "landing" / NIGHT.isoformat())
        made_unlike = make_run(
            reshaped / "landing", reshaped / "data", template, (NIGHT, NEXT_NIGHT)
        )
        result["unlike"] = {
            "max_depth": shapes[0]["max_depth"],
            "floor": floor[0],
            "make_run": made_unlike,
            "agree": pipeline_summary(reshaped / "data") == floor[2],
        }
        shutil.rmtree(reshaped, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(operated, ignore_errors=True)
    return result


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


def make_run_table(results: list[dict], fixed: dict) -> str:
    """Each size's two nights through ``make run``, in seconds and in its floor."""
    head = [
        "export",
        "DuckDB floor",
        "night (make run)",
        "x floor",
        "next night (make run)",
        "x floor",
        "peak memory",
        "same summary",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows = [
        (f"{r['orders']:,} orders", r["baselines"]["duckdb"][0], r["make_run"], r["agree"])
        for r in [fixed, *results]
    ]
    rows += [
        (
            f"{r['orders']:,} orders, unlike (tree {r['unlike']['max_depth']} levels deep, "
            "skewed buyers, no order lines)",
            r["unlike"]["floor"],
            r["unlike"]["make_run"],
            r["unlike"]["agree"],
        )
        for r in results
        if "unlike" in r
    ]
    for name, floor, (first, second), agree in rows:
        lines.append(
            f"| {name} | {floor:.1f} s | {first['seconds']:.1f} s | {first['seconds'] / floor:.1f} | "
            f"{second['seconds']:.1f} s | {second['seconds'] / floor:.1f} | "
            f"{max(first['peak'], second['peak']):,.0f} MiB | {'yes' if agree else 'NO'} |"
        )
    return "\n".join(lines)


def fixed_cost(fixed: dict) -> str:
    """Where the 200-order night through ``make run`` goes: its tasks, and the rest."""
    night = fixed["make_run"][0]
    tasks = sorted(night["tasks"].items(), key=lambda item: -item[1])
    outside = night["seconds"] - sum(night["tasks"].values())
    return (
        f"Fixed cost, the 200-order night through `make run`: {night['seconds']:.1f} s = the "
        "tasks ("
        + ", ".join(f"{task} {seconds:.1f} s" for task, seconds in tasks)
        + f") + {outside:.1f} s outside them (make and the date check, Airflow's start-up "
        "and DAG parse, the check of every task's state)."
    )


def targets(results: list[dict], fixed: dict) -> str:
    """Issue #15's targets, in multiples of the DuckDB floor of the same run, at the largest
    size (through ``make run``, Airflow included)."""
    largest = max(results, key=lambda result: result["orders"])
    floor, pandas = largest["baselines"]["duckdb"][0], largest["baselines"]["pandas"][0]
    first, second = largest["make_run"]
    base, ordinary = (night["seconds"] for night in fixed["make_run"])
    work = max(first["seconds"] - base, 0.0)
    peak = max(
        _whole(largest["stages"])[1],
        _whole(largest["next_night"])[1],
        first["peak"],
        second["peak"],
    )
    size = f"{largest['orders']:,} orders"
    rows = [
        (f"full night, {size}", 10, first["seconds"], floor),
        ("its data work (full night - fixed cost)", 5, work, floor),
        (f"next night on {size} of history", 3.5, second["seconds"], floor),
        ("fixed cost (a 200-order night)", 2, base, floor),
        # the same export's next night: dbt reuses the parse and the seeds, as most nights
        ("fixed cost, the next 200-order night", 2, ordinary, floor),
    ]
    unlike = largest.get("unlike")
    if unlike:
        u_first, u_second = unlike["make_run"]
        rows += [
            ("full night, unlike export", 10, u_first["seconds"], unlike["floor"]),
            ("next night, unlike export", 3.5, u_second["seconds"], unlike["floor"]),
        ]
        peak = max(peak, u_first["peak"], u_second["peak"])
    at_target_size = largest["orders"] >= TARGET_ORDERS

    def verdict(met: bool) -> str:
        if not at_target_size:
            return f"not judged below {TARGET_ORDERS:,} orders"
        return "yes" if met else "**no**"

    lines = ["| target | wanted | measured | x floor | met |", "|---|---|---|---|---|"]
    for name, times, seconds, of in rows:
        lines.append(
            f"| {name} | <= {times:g} x floor ({times * of:.1f} s) | {seconds:.1f} s | "
            f"{seconds / of:.1f} | {verdict(seconds <= times * of)} |"
        )
    # issue #16's budget: 15 s on a quiet machine, whose floor is about 5.7 s
    models = largest["purchase_models"]
    spent, times = sum(models["seconds"].values()), 15 / QUIET_FLOOR_SECONDS
    lines.append(
        f"| fit and score {models['accounts']:,} accounts (issue #16; node seconds of "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in models["seconds"].items())
        + f") | <= {times:.1f} x floor ({times * floor:.1f} s) | {spent:.1f} s | "
        f"{spent / floor:.1f} | {verdict(spent <= times * floor)} |"
    )
    lines.append(
        f"| data work / pandas script | < 1 | {work / pandas:.2f} | - | {verdict(work < pandas)} |"
    )
    lines.append(f"| peak memory | <= 4,096 MiB | {peak:,.0f} MiB | - | {verdict(peak <= 4096)} |")
    return "\n".join(lines)


def offers_table(results: list[dict]) -> str:
    """Issue #17: what the offers add to each size's first night through ``make run``
    (node seconds of their dbt models and tests), and the offline evaluation of the
    largest size: hit rates at 1 and 3 of each rule beside the best-seller baseline's,
    over the same buyers."""
    lines = [
        "| orders | order lines | offer nodes (s) | x floor | slowest nodes |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        offers, floor = result["offers"], result["baselines"]["duckdb"][0]
        spent = sum(offers["seconds"].values())
        slowest = sorted(offers["seconds"].items(), key=lambda item: -item[1])[:3]
        lines.append(
            f"| {result['orders']:,} | {offers['order_lines']:,} | {spent:.1f} | "
            f"{spent / floor:.2f} | "
            + ", ".join(f"{name} {seconds:.1f}" for name, seconds in slowest)
            + " |"
        )
    largest = max(results, key=lambda result: result["orders"])
    lines += [
        "",
        f"Offline evaluation at {largest['orders']:,} orders (`marts.offer_evaluation`: the "
        "last purchase day of a fixed sample of repeat buyers hidden):",
        "",
        "| rule | buyers evaluated | with an offer | hit@1 | baseline hit@1 | hit@3 | "
        "baseline hit@3 |",
        "|---|---|---|---|---|---|---|",
    ]
    for rule, evaluated, offered, at_1, at_3, base_1, base_3 in largest["offers"]["evaluation"]:
        lines.append(
            f"| {rule} | {evaluated:,} | {offered:,} | {at_1 or 0:.3f} | {base_1 or 0:.3f} | "
            f"{at_3 or 0:.3f} | {base_3 or 0:.3f} |"
        )
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
    template = airflow_home(workdir)
    fixed = bench(200, workdir, template)
    results = [bench(size, workdir, template, unlike=size == max(sizes)) for size in sizes]
    machine = (
        f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    report = (
        f"Machine: {machine}. Command: `make bench SIZES={args.sizes}`.\n\n"
        "Targets (issue #15), at the largest size of this run, through `make run` (Airflow "
        "included), each against the bare-DuckDB floor on the same export in the same run:\n\n"
        f"{targets(results, fixed)}\n\n"
        f"{fixed_cost(fixed)}\n\n"
        "Each size's night and next night through `make run` (`scripts/run_night.py` under "
        "`airflow dags test`, on a migrated Airflow home), and the export of "
        "`benchmarks/unlike_export.py` at the largest size:\n\n"
        f"{make_run_table(results, fixed)}\n\n"
        "Where a night goes: each stage in its own process (fixed cost = the 200-order "
        "row; data work = whole night minus fixed cost):\n\n"
        f"{table(results, fixed)}\n\n"
        "The next night: the following export, one day of new and changed orders and the "
        "full accounts snapshot, on top of that history:\n\n"
        f"{next_night_table(results, fixed)}\n\n"
        "What the offers add (issue #17), in each size's first night through `make run`, "
        "and how well they predict the next purchase:\n\n"
        f"{offers_table(results)}"
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
    agreed = [r["agree"] for r in [fixed, *results]]
    agreed += [r["unlike"]["agree"] for r in results if "unlike" in r]
    return 0 if all(agreed) else 1


if __name__ == "__main__":
    sys.exit(main())
