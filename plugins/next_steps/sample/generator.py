"""Deterministic sample exports that follow the nightly export contract (design: "Input").

``generate_export`` writes one export night, ``<landing>/<YYYY-MM-DD>/`` with
``accounts.csv``, ``orders.csv``, ``order_lines.csv`` (or ``.csv.gz``) and an empty
``_SUCCESS`` written last. ``generate_nights`` writes a first full export followed by
delta nights. The same arguments always give the same bytes: every random draw comes from
``numpy.random.default_rng`` seeded with the seed plus a fixed stream key, and nothing
reads the clock.

What the data models, so that the pipeline has something real to chew on:

* Accounts. A company that grew over three years: enrolments get denser towards the
  export date. About 65 % retail customers, 17 % preferred customers and 18 %
  distributors; 10 % inactive and 1.5 % terminated accounts, which stopped buying months
  ago. Every account but a few company enrolments has a sponsor: a distributor enrolled
  earlier, picked with a weight that grows with the sponsor's rank, so that leaders
  build wide teams, many distributors recruit nobody, and the tree is many levels deep.
  Recruits usually live in their sponsor's country. Country and language go together
  (US/en and a few US/es, CA/en and CA/fr, GB/en, PL/pl, DE/de, FR/fr, RU/ru, MX/es);
  first names come from a small list per language (UTF-8: Łukasz, Jürgen, Дмитрий),
  sometimes empty. E-mail addresses use only the reserved example.com/.org/.net domains;
  3 % are empty and 2 % are broken (no ``@``, no domain, no top-level domain, a space,
  ``@@``). 15 % opted out of e-mail. Autoship runs for about 35 % of preferred customers,
  25 % of distributors and 8 % of retail customers. Distributor ranks run 0-8, mostly
  0-2; new distributors (under 60 days) are rank 0.
* Orders, 30 months of history. About 15 % of accounts never buy. A buyer's first order
  is usually on the enrolment day; many buyers buy exactly once, others buy again at a
  personal rate with a heavy tail (a log-normal propensity), until they churn (an
  exponential lifetime), so a good share of buyers are lapsed (nothing in 12 months).
  Autoship accounts get an ``autoship`` order every month on a fixed day, from their
  autoship start onwards. Status: ~92 % completed, ~5 % cancelled, ~3 % returned; 0.5 %
  of standard orders are free samples (total 0.00). About 2 % of orders were exported
  twice: first as ``completed``, then (a later row, later ``updated_at``) as
  ``returned`` or ``cancelled``. The requested ``orders`` counts rows; one global
  purchase rate is calibrated so that the row count lands close to it.
* Order lines. 1-4 lines per order from a fixed 40-product catalogue with local price
  lists (USD, CAD, GBP, PLN, EUR, RUB, MXN) and popular and rare products. The order
  total is the lines' subtotal less the customer-type discount (preferred 10 %,
  distributor 25 %, autoship 5 % more) plus shipping under a threshold, so it is close
  to, not equal to, the sum of the lines. The volume is the products' point value.
  Planted product affinities (for the offers of issue 17 to find; ``tables.planted_*``
  name them): every account has an entry product (a popularity draw fixed by its
  number) that opens its first order 70 % of the time; each line of its later orders is
  the entry's successor (the product three places down the catalogue) 35 % of the time,
  so repeat buyers re-buy it; each line after an order's first is the first product's
  companion (products 0-1, 2-3, ... pair up) 30 % of the time.
* Delta nights (``generate_nights``). Each night after the first carries a full accounts
  snapshot (the same accounts, a few opt-outs, autoships switched on or off, upgrades to
  preferred, rank promotions, accounts gone inactive, and a few new enrolments that day,
  some buying at once) and only the orders created or changed that day: the day's new
  orders (and autoship runs) plus a few earlier orders re-exported as returned or
  cancelled with that day's ``updated_at``. Autoships on the 29th-31st run on the 28th.

Order ids are numbered per account in date order; an order's lines are written once,
whatever the number of versions.

Scale: accounts are produced in chunks of ``CHUNK_ACCOUNTS`` and orders in slices of at
most ``SLICE_ORDERS``; every chunk is vectorised with numpy and written before the next
one is made. Only the distributor list (for sponsors, 17 bytes per distributor)
survives a chunk, so memory stays bounded (about 160 MB) whatever the number of orders. Rows are rendered straight into byte matrices (no per-row
Python). A background thread compresses and writes while the next chunk is computed.
``generate_nights`` also keeps a few bytes of mutable state per account (status,
opt-in, autoship, rank, type) so the nights can change them.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import ClassVar

import numpy as np

from next_steps.sample.accounts import _Accounts, _core, _Distributors, _profile, _render_accounts
from next_steps.sample.orders import (
    _calibrate,
    _history_orders,
    _make_orders,
    _OrderBatch,
    _Plan,
    _standard_counts,
)
from next_steps.sample.parameters import (
    _COUNTS,
    _DETAIL,
    _LATE,
    _NIGHT,
    _NIGHT_CHANGED,
    _NIGHT_COUNTS,
    _NIGHT_DETAIL,
    _NIGHT_ENROL,
    _NIGHT_LAPSE,
    _NIGHT_LATE,
    _NIGHT_ORDERS,
    _PROFILE,
    ACTIVE,
    CANCELLED,
    COMPLETED,
    DAY,
    DISTRIBUTOR,
    ENROLMENT_GROWTH,
    ENROLMENT_SPAN_DAYS,
    INACTIVE,
    LATE_CHANGE_DAYS,
    LATE_CHANGE_P,
    LATE_RETURNED_P,
    NIGHT_CHANGES,
    PREFERRED,
    RANK_P,
    RETAIL,
    RETURNED,
    SLICE_ORDERS,
    TERMINATED,
    ProgressFn,
)
from next_steps.sample.rendering import _render_orders
from next_steps.sample.tables import _as_date, _day_of_month, _days, _rng
from next_steps.sample.writing import _ExportWriter, _Stats

__all__ = ["generate_export", "generate_nights", "main"]


# --- delta-night state -----------------------------------------------------------------


class _LateChanges:
    """Completed orders that will be returned or cancelled on a later export night."""

    def __init__(self, first_day: int, last_day: int) -> None:
        self.first_day, self.last_day = first_day, last_day
        self.parts: list[dict[str, np.ndarray]] = []

    def collect(self, rng: np.random.Generator, batch: _OrderBatch) -> None:
        t = batch.table
        n = len(t["day"])
        chosen = rng.random(n) < LATE_CHANGE_P
        change_day = t["day"] + rng.integers(*LATE_CHANGE_DAYS, n)
        new_status = np.where(rng.random(n) < LATE_RETURNED_P, RETURNED, CANCELLED)
        keep = (
            chosen
            & (t["status"] == COMPLETED)
            & ~t["reexported"]
            & ~t["free"]
            & (change_day > self.first_day)
            & (change_day <= self.last_day)
        )
        if keep.any():
            part = {
                k: t[k][keep]
                for k in (
                    "order_no",
                    "account_no",
                    "ts",
                    "type",
                    "currency",
                    "total",
                    "volume",
                )
            }
            part["status"] = new_status[keep]
            part["change_day"] = change_day[keep]
            self.parts.append(part)

    def due(self, day: int) -> dict[str, np.ndarray]:
        if not self.parts:
            return {}
        joined = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        today = joined["change_day"] == day
        order = np.argsort(joined["order_no"][today], kind="stable")
        return {k: v[today][order] for k, v in joined.items()}


class _State:
    """Mutable account fields across export nights, indexed by account number - 1."""

    FIELDS: ClassVar[dict[str, type]] = {
        "atype": np.int8,
        "status": np.int8,
        "rank": np.int8,
        "opt_in": bool,
        "autoship": bool,
        "autoship_from": np.int32,
    }

    def __init__(self, capacity: int) -> None:
        self.arrays = {k: np.zeros(capacity, dtype=t) for k, t in self.FIELDS.items()}
        self.size = 0

    def store(self, acc: _Accounts) -> None:
        hi = int(acc.number[-1])
        if hi > len(self.arrays["status"]):
            for k, a in self.arrays.items():
                grown = np.zeros(max(hi, 2 * len(a)), dtype=a.dtype)
                grown[: len(a)] = a
                self.arrays[k] = grown
        at = acc.number - 1
        for k in self.FIELDS:
            self.arrays[k][at] = getattr(acc, k)
        self.size = max(self.size, hi)

    def apply(self, acc: _Accounts) -> None:
        at = acc.number - 1
        for k in self.FIELDS:
            setattr(acc, k, self.arrays[k][at].astype(getattr(acc, k).dtype))


def _export_pass(
    plan: _Plan,
    folder: Path,
    compress: bool,
    progress: ProgressFn | None,
    state: _State | None,
    late: _LateChanges | None,
) -> tuple[_Stats, int, _Distributors]:
    """Writes the full export for plan.export_day; returns the stats, the next order
    number and the sponsor tree. Fills ``state`` and ``late`` for delta nights."""
    stats = _Stats(folder, plan.export_day)
    tree = _Distributors()
    writer = _ExportWriter(folder, compress)
    end_ts = plan.export_day * DAY + DAY - 1
    next_no = 1
    label = _as_date(plan.export_day).isoformat()
    try:
        for index, numbers in plan.chunks():
            acc = plan.core(index, numbers)
            _profile(_rng(plan.seed, _PROFILE, index), acc, tree)
            writer.write(0, _render_accounts(acc))
            stats.accounts += len(acc)
            if state is not None:
                state.store(acc)
            if not plan.no_orders:
                standard = _standard_counts(_rng(plan.seed, _COUNTS, index), acc, plan.rate)
                late_rng = _rng(plan.seed, _LATE, index)
                for batch in _history_orders(
                    _rng(plan.seed, _DETAIL, index), acc, standard, next_no, end_ts
                ):
                    writer.write(1, batch.orders)
                    writer.write(2, batch.lines)
                    stats.add(batch)
                    next_no += batch.distinct
                    if late is not None:
                        late.collect(late_rng, batch)
            if progress is not None:
                progress(label, stats.accounts / plan.accounts)
    except BaseException:
        writer.abort()
        raise
    writer.close()
    return stats, next_no, tree


def _check_arguments(orders: int, seed: int, accounts: int | None) -> int:
    if orders < 0:
        raise ValueError(f"orders must be >= 0, got {orders}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if accounts is None:
        return max(50, round(orders / 10))
    if accounts < 1:
        raise ValueError(f"accounts must be >= 1, got {accounts}")
    return accounts


def generate_export(
    landing_dir: Path,
    night: date,
    orders: int,
    seed: int = 42,
    accounts: int | None = None,
    gzip: bool = False,
    *,
    progress: ProgressFn | None = None,
) -> dict:
    """Write one full export of ``night``, ``<landing_dir>/<night>/``, and return its stats.

    ``orders`` is the number of order rows wanted (the result lands close to it);
    ``accounts`` defaults to orders / 10 (at least 50). An existing folder is replaced:
    its ``_SUCCESS`` goes first and comes back last. ``progress(label, fraction)`` is
    called after every chunk of accounts.
    """
    accounts = _check_arguments(orders, seed, accounts)
    export_day = _days(night)
    plan = _calibrate(accounts, export_day, seed, orders)
    folder = Path(landing_dir) / night.isoformat()
    stats, _, _ = _export_pass(plan, folder, gzip, progress, None, None)
    return stats.as_dict()


# --- delta nights ----------------------------------------------------------------------


def _night_changes(rng: np.random.Generator, state: _State, day: int) -> None:
    """A few account changes during one day, applied to the state."""
    a = state.arrays
    total = state.size
    picks = {
        kind: rng.integers(0, total, rng.poisson(max(rate * total, 0.5)))
        for kind, rate in NIGHT_CHANGES.items()
    }
    i = picks["opt_out"]
    a["opt_in"][i] = False
    i = picks["autoship_on"]
    i = i[(a["status"][i] == ACTIVE) & ~a["autoship"][i]]
    a["autoship"][i] = True
    a["autoship_from"][i] = day
    a["autoship"][picks["autoship_off"]] = False
    for kind, status in (("inactive", INACTIVE), ("terminated", TERMINATED)):
        i = picks[kind]
        i = i[a["status"][i] != TERMINATED]
        a["status"][i] = status
        a["autoship"][i] = False
    i = picks["upgrade"]
    a["atype"][i[a["atype"][i] == RETAIL]] = PREFERRED
    i = picks["rank_up"]
    a["rank"][i[(a["atype"][i] == DISTRIBUTOR) & (a["rank"][i] < len(RANK_P) - 1)]] += 1


def _steady_counts(arrays: dict[str, np.ndarray], size: int) -> tuple[int, int]:
    """Active accounts, and active accounts on autoship, among the first ``size``."""
    active = arrays["status"][:size] == ACTIVE
    return int(active.sum()), int((active & arrays["autoship"][:size]).sum())


def _hold_steady(
    rng: np.random.Generator, state: _State, newcomers: _Accounts, held: tuple[int, int]
) -> None:
    """After the day's changes, before its enrolments join: active accounts drawn at
    random lapse (become inactive, autoship off) until with the newcomers there are as
    many active accounts as ``held`` says, and autoships drawn at random stop while more
    run than it says (autoship otherwise grows: more switch it on than off)."""
    a, size = state.arrays, state.size
    new_active, new_autoship = _steady_counts(vars(newcomers), len(newcomers))
    active = np.flatnonzero(a["status"][:size] == ACTIVE)
    excess = len(active) + new_active - held[0]
    if excess > 0:
        i = rng.choice(active, excess, replace=False)
        a["status"][i] = INACTIVE
        a["autoship"][i] = False
    autoship = np.flatnonzero((a["status"][:size] == ACTIVE) & a["autoship"][:size])
    excess = len(autoship) + new_autoship - held[1]
    if excess > 0:
        a["autoship"][rng.choice(autoship, excess, replace=False)] = False


def _orders_today(
    rng: np.random.Generator, acc: _Accounts, rate: float, day: int
) -> tuple[np.ndarray, np.ndarray]:
    """Accounts (indices into acc, sorted) ordering on ``day``, and which orders are
    autoship runs. Accounts still buying order at their personal rate; autoships run on
    their day of the month (and on the day they are switched on)."""
    expected = np.where(acc.continuing & (acc.status == ACTIVE), rate * acc.rate / 365.0, 0.0)
    standard = rng.poisson(expected)
    dom = int(_day_of_month(np.array([day]))[0])
    autoship = (
        acc.autoship
        & (acc.autoship_from <= day)
        & ((acc.autoship_from == day) | (np.minimum(_day_of_month(acc.autoship_from), 28) == dom))
    )
    account = np.concatenate([np.repeat(np.arange(len(acc)), standard), np.flatnonzero(autoship)])
    is_autoship = np.concatenate(
        [np.zeros(int(standard.sum()), bool), np.ones(int(autoship.sum()), bool)]
    )
    order = np.argsort(account, kind="stable")
    return account[order], is_autoship[order]


class _Night:
    """One delta export night: writes the accounts snapshot and the day's orders."""

    def __init__(
        self,
        plan: _Plan,
        night: int,
        day: int,
        folder: Path,
        compress: bool,
        state: _State,
        late: _LateChanges,
        next_no: int,
    ) -> None:
        self.plan, self.night, self.day = plan, night, day
        self.end_ts = day * DAY + DAY - 1
        self.state, self.late = state, late
        self.next_no = next_no
        self.stats = _Stats(folder, day)
        self.order_rng = _rng(plan.seed, _NIGHT_ORDERS, night)
        self.late_rng = _rng(plan.seed, _NIGHT_LATE, night)
        self.writer = _ExportWriter(folder, compress)

    def _emit(self, batch: _OrderBatch) -> None:
        self.writer.write(1, batch.orders)
        self.writer.write(2, batch.lines)
        self.stats.add(batch)
        self.late.collect(self.late_rng, batch)
        self.next_no += batch.distinct

    def _accounts(self, acc: _Accounts) -> None:
        self.state.apply(acc)
        self.writer.write(0, _render_accounts(acc))
        self.stats.accounts += len(acc)

    def known_accounts(self, acc: _Accounts) -> None:
        """Accounts of earlier nights: today's snapshot row and today's orders."""
        self._accounts(acc)
        if self.plan.no_orders:
            return
        account, is_autoship = _orders_today(self.order_rng, acc, self.plan.rate, self.day)
        for lo in range(0, len(account), SLICE_ORDERS):
            part = slice(lo, lo + SLICE_ORDERS)
            day = np.full(len(account[part]), self.day, dtype=np.int64)
            self._emit(
                _make_orders(
                    self.order_rng,
                    self.next_no,
                    acc,
                    account[part],
                    day,
                    is_autoship[part],
                    self.end_ts,
                )
            )

    def new_accounts(self, acc: _Accounts) -> None:
        """Today's enrolments: most buyers order on the day they enrol."""
        self._accounts(acc)
        if self.plan.no_orders:
            return
        counts = _standard_counts(
            _rng(self.plan.seed, _NIGHT_COUNTS, self.night), acc, self.plan.rate
        )
        counts = np.where(acc.first_at_enrolment, counts, 0)
        for batch in _history_orders(
            _rng(self.plan.seed, _NIGHT_DETAIL, self.night),
            acc,
            counts,
            self.next_no,
            self.end_ts,
        ):
            self._emit(batch)

    def changed_orders(self) -> None:
        """Earlier orders returned or cancelled today: a new version, updated today."""
        due = self.late.due(self.day)
        if not due:
            return
        n = len(due["order_no"])
        due["updated"] = self.day * DAY + _rng(self.plan.seed, _NIGHT_CHANGED, self.night).integers(
            0, DAY, n
        )
        self.writer.write(1, _render_orders(due))
        self.stats.order_rows += n
        self.stats.distinct_orders += n

    def close(self) -> dict:
        self.writer.close()
        return self.stats.as_dict()

    def abort(self) -> None:
        self.writer.abort()


def _new_enrolments(
    plan: _Plan, night: int, day: int, first_number: int, tree: _Distributors
) -> _Accounts:
    """The day's enrolments, at the pace the company enrolled lately (at least one)."""
    rng = _rng(plan.seed, _NIGHT_ENROL, night)
    expected = plan.accounts * ENROLMENT_GROWTH / ENROLMENT_SPAN_DAYS
    n = max(1, int(rng.poisson(expected)))
    numbers = np.arange(first_number, first_number + n, dtype=np.int64)
    acc = _core(rng, numbers, np.full(n, day, dtype=np.int64), day)
    _profile(rng, acc, tree)
    return acc


def generate_nights(
    landing_dir: Path,
    first_date: date,
    nights: int,
    orders: int,
    seed: int = 42,
    accounts: int | None = None,
    gzip: bool = False,
    *,
    steady: bool = False,
    progress: ProgressFn | None = None,
) -> list[dict]:
    """Write ``nights`` export nights from ``first_date`` on; return one stats dict each.

    The first night is exactly ``generate_export(landing_dir, first_date, orders, seed,
    accounts, gzip)``: the whole history. Every following night (one day later each) is
    a delta: a full accounts snapshot with that day's changes and new enrolments, and
    only the orders created or changed that day. Memory grows with the number of
    accounts (a few bytes each), not with the number of orders.

    ``steady``: the company stops growing. Every delta night as many active accounts
    lapse (become inactive) as enrol, and no more run autoship than on the first night,
    so the day's orders stay about as many as on the first night (the year bench: a
    night's cost against the history, at the same size of daily delta). Without it the
    night's changes and enrolments are the same, and nothing else lapses.
    """
    if nights < 1:
        raise ValueError(f"nights must be >= 1, got {nights}")
    accounts = _check_arguments(orders, seed, accounts)
    first_day = _days(first_date)
    plan = _calibrate(accounts, first_day, seed, orders)
    landing = Path(landing_dir)
    if nights == 1:
        stats, _, _ = _export_pass(
            plan, landing / first_date.isoformat(), gzip, progress, None, None
        )
        return [stats.as_dict()]

    state = _State(accounts)
    late = _LateChanges(first_day, first_day + nights - 1)
    stats, next_no, tree = _export_pass(
        plan, landing / first_date.isoformat(), gzip, progress, state, late
    )
    results = [stats.as_dict()]
    enrolled: list[_Accounts] = []  # accounts enrolled on the delta nights so far
    held = _steady_counts(state.arrays, state.size)  # steady: the first night's counts
    for night in range(1, nights):
        day = first_day + night
        _night_changes(_rng(seed, _NIGHT, night), state, day)
        newcomers = _new_enrolments(plan, night, day, state.size + 1, tree)
        if steady:
            _hold_steady(_rng(seed, _NIGHT_LAPSE, night), state, newcomers, held)
        state.store(newcomers)
        label = _as_date(day).isoformat()
        out = _Night(plan, night, day, landing / label, gzip, state, late, next_no)
        try:
            for index, numbers in plan.chunks():
                acc = plan.core(index, numbers)
                _profile(_rng(seed, _PROFILE, index), acc, tree)
                out.known_accounts(acc)
                if progress is not None:
                    progress(label, out.stats.accounts / state.size)
            for acc in enrolled:
                out.known_accounts(acc)
            out.new_accounts(newcomers)
            out.changed_orders()
        except BaseException:
            out.abort()
            raise
        results.append(out.close())
        next_no = out.next_no
        enrolled.append(newcomers)
    return results


# --- command line ----------------------------------------------------------------------


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def _stderr_progress() -> ProgressFn:
    shown: dict[str, int] = {}

    def report(label: str, fraction: float) -> None:
        step = int(fraction * 10)
        if step > shown.get(label, 0):
            shown[label] = step
            print(  # noqa: T201 - progress of a command-line run
                f"{label}: {step * 10}% of accounts written",
                file=sys.stderr,
                flush=True,
            )

    return report


def main(argv: list[str] | None = None, prog: str = "python -m next_steps.sample.generator") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        # one line, not argparse's wrapped one: it heads every error message
        usage="%(prog)s --landing DIR --date YYYY-MM-DD --orders N [--seed N] [--accounts N]"
        " [--gzip] [--nights N] [--steady]",
        description="Write a deterministic sample export (accounts, orders, order lines) "
        "into <landing>/<date>/, with _SUCCESS written last.",
    )
    parser.add_argument(
        "--landing", type=Path, required=True, metavar="DIR", help="landing directory"
    )
    parser.add_argument(
        "--date", type=_parse_date, required=True, metavar="YYYY-MM-DD", help="export date"
    )
    parser.add_argument(
        "--orders", type=int, required=True, metavar="N", help="order rows wanted (about)"
    )
    parser.add_argument(
        "--seed", type=int, default=42, metavar="N", help="random seed (default 42)"
    )
    parser.add_argument(
        "--accounts",
        type=int,
        default=None,
        metavar="N",
        help="accounts (default orders/10, >= 50)",
    )
    parser.add_argument("--gzip", action="store_true", help="write .csv.gz files")
    parser.add_argument(
        "--nights",
        type=int,
        default=1,
        metavar="N",
        help="export nights: the first full, the next ones deltas (default 1)",
    )
    parser.add_argument(
        "--steady",
        action="store_true",
        help="delta nights: as many active accounts lapse as enrol (a company that "
        "stopped growing: the same size of daily delta every night)",
    )
    args = parser.parse_args(argv)
    progress = _stderr_progress() if args.orders >= 200_000 else None
    try:
        results = generate_nights(
            args.landing,
            args.date,
            args.nights,
            args.orders,
            args.seed,
            args.accounts,
            args.gzip,
            steady=args.steady,
            progress=progress,
        )
    except ValueError as exc:
        parser.error(str(exc))
    for r in results:
        print(  # noqa: T201 - the command's one-line report
            f"{r['export_date']}: {r['accounts']} accounts, {r['order_rows']} order rows "
            f"({r['distinct_orders']} orders), {r['line_rows']} order lines -> {r['export_dir']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
