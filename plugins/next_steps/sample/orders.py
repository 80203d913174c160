"""Orders and order lines of a chunk of accounts: the history, autoship runs, statuses
and re-exported versions, calibrated to the requested number of rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from next_steps.sample.accounts import _Accounts, _core, _enrolment_days
from next_steps.sample.parameters import (
    _CORE,
    AUTOSHIP,
    AUTOSHIP_DISCOUNT,
    CANCELLED,
    CANCELLED_P,
    CHUNK_ACCOUNTS,
    COMPANION_P,
    COMPLETED,
    COUNTRY_CURRENCY,
    DAY,
    DISCOUNT,
    DISTRIBUTOR,
    DISTRIBUTOR_EXTRA_QUANTITY,
    ENTRY_P,
    FREE_SAMPLE_P,
    HOUR_WEIGHTS,
    LINES_P,
    QUANTITIES,
    QUANTITY_P,
    REEXPORT_RATE,
    REEXPORTED_P,
    RETURNED,
    RETURNED_P,
    SLICE_ORDERS,
    STANDARD,
    SUCCESSOR_P,
)
from next_steps.sample.rendering import _render_lines, _render_orders
from next_steps.sample.tables import (
    _COMPANION,
    _FREE_SHIPPING,
    _SAMPLE_INDEX,
    _SHIPPING,
    _SKU_POINTS,
    _SKU_POPULARITY,
    _SKU_PRICE,
    _SUCCESSOR,
    _day_of_month,
    _entry_products,
    _month_day,
    _month_index,
    _pick,
    _rng,
)


@dataclass
class _OrderBatch:
    orders: bytes
    lines: bytes
    order_rows: int
    distinct: int
    line_rows: int
    table: dict[str, np.ndarray]  # one entry per distinct order, final version


def _make_orders(
    rng: np.random.Generator,
    first_no: int,
    acc: _Accounts,
    which: np.ndarray,
    day: np.ndarray,
    is_autoship: np.ndarray,
    end_ts: int,
    first_order: np.ndarray | None = None,
) -> _OrderBatch:
    """Orders (and their lines) of accounts ``acc[which]`` on the given days;
    ``first_order`` marks each account's first order (none marked: every order is a later
    one), whose first line is where the planted entry product goes."""
    n = len(day)
    hour = _pick(rng, HOUR_WEIGHTS, n)
    second = rng.integers(0, 3600, n)
    night_run = rng.integers(0, 7200, n)
    free_u = rng.random(n)
    status_u = rng.random(n)
    reexport_u = rng.random(n)
    done_after = rng.integers(60, 6 * 3600, n)
    cancelled_after = rng.integers(60, 2 * DAY, n)
    returned_after = rng.integers(3 * DAY, 40 * DAY, n)
    returned_later = rng.integers(DAY, 30 * DAY, n)
    cancelled_later = rng.integers(3600, 3 * DAY, n)

    order_type = is_autoship.astype(np.int64)
    ts = day * DAY + np.where(is_autoship, 7200 + night_run, hour * 3600 + second)
    ts = np.minimum(ts, end_ts)
    free = ~is_autoship & (free_u < FREE_SAMPLE_P)
    status = np.where(
        status_u < CANCELLED_P,
        CANCELLED,
        np.where(status_u < CANCELLED_P + RETURNED_P, RETURNED, COMPLETED),
    )
    status[free] = COMPLETED
    reexported = (
        ((status == CANCELLED) & (reexport_u < REEXPORTED_P[CANCELLED]))
        | ((status == RETURNED) & (reexport_u < REEXPORTED_P[RETURNED]))
    ) & (ts <= end_ts - 2 * DAY)
    completed_at = ts + done_after
    updated = np.select(
        [status == CANCELLED, status == RETURNED],
        [ts + cancelled_after, ts + returned_after],
        completed_at,
    )
    later = completed_at + np.where(status == RETURNED, returned_later, cancelled_later)
    updated = np.minimum(np.where(reexported, later, updated), end_ts)
    completed_at = np.minimum(completed_at, updated - 1)

    account = which
    atype = acc.atype[account]
    currency = COUNTRY_CURRENCY[acc.country[account]]

    # lines
    line_count = np.where(
        free,
        1,
        np.where(
            is_autoship,
            _pick(rng, LINES_P[AUTOSHIP], n),
            _pick(rng, LINES_P[STANDARD], n),
        )
        + 1,
    )
    total_lines = int(line_count.sum())
    owner = np.repeat(np.arange(n), line_count)
    line_no = np.arange(total_lines) - np.repeat(np.cumsum(line_count) - line_count, line_count) + 1
    sku = _pick(rng, _SKU_POPULARITY, total_lines)
    # the planted affinities (parameters ENTRY_P, SUCCESSOR_P, COMPANION_P)
    entry = _entry_products(acc.number[account])[owner]
    is_first = np.zeros(n, dtype=bool) if first_order is None else first_order
    planted_u = rng.random((2, total_lines))
    sku = np.where(~is_first[owner] & (planted_u[0] < SUCCESSOR_P), _SUCCESSOR[entry], sku)
    first_line = np.cumsum(line_count) - line_count
    opening = is_first & (planted_u[0][first_line] < ENTRY_P)
    sku[first_line[opening]] = entry[first_line[opening]]
    later_line = line_no > 1
    companion = later_line & (planted_u[1] < COMPANION_P)
    sku[companion] = _COMPANION[sku[first_line[owner[companion]]]]
    quantity = np.array(QUANTITIES)[_pick(rng, QUANTITY_P, total_lines)]
    quantity += np.where(
        atype[owner] == DISTRIBUTOR,
        rng.poisson(DISTRIBUTOR_EXTRA_QUANTITY, total_lines),
        0,
    )
    sku[free[owner]] = _SAMPLE_INDEX
    quantity[free[owner]] = 1
    unit_price = _SKU_PRICE[sku, currency[owner]]
    subtotal = np.rint(np.bincount(owner, weights=quantity * unit_price, minlength=n)).astype(
        np.int64
    )
    points = np.rint(np.bincount(owner, weights=quantity * _SKU_POINTS[sku], minlength=n)).astype(
        np.int64
    )
    discount = np.array(DISCOUNT)[atype] + np.where(is_autoship, AUTOSHIP_DISCOUNT, 0.0)
    total = np.rint(subtotal * (1 - discount)).astype(np.int64)
    total += np.where(subtotal < _FREE_SHIPPING[currency], _SHIPPING[currency], 0)
    total[free] = 0
    points[free] = 0

    order_no = first_no + np.arange(n, dtype=np.int64)
    table = {
        "order_no": order_no,
        "account_no": acc.number[account],
        "ts": ts,
        "type": order_type,
        "status": status,
        "currency": currency,
        "total": total,
        "volume": points,
        "updated": updated,
        "reexported": reexported,
        "free": free,
        "day": day,
    }
    # rows: a re-exported order first as completed, then in its final state
    copies = 1 + reexported.astype(np.int64)
    row = np.repeat(np.arange(n), copies)
    first_copy = np.zeros(len(row), dtype=bool)
    first_copy[np.cumsum(copies) - copies] = True
    earlier = first_copy & reexported[row]
    rows = {
        k: table[k][row]
        for k in ("order_no", "account_no", "ts", "type", "currency", "total", "volume")
    }
    rows["status"] = np.where(earlier, COMPLETED, status[row])
    rows["updated"] = np.where(earlier, completed_at[row], updated[row])
    return _OrderBatch(
        orders=_render_orders(rows),
        lines=_render_lines(order_no[owner], line_no, sku, quantity, unit_price),
        order_rows=len(row),
        distinct=n,
        line_rows=total_lines,
        table=table,
    )


def _order_slots(acc: _Accounts, standard: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(account index, k-th order of that account) in slices of at most SLICE_ORDERS, so
    that even an account with a million orders never needs them all at once."""
    counts = standard + acc.autoship_orders
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    for lo in range(0, total, SLICE_ORDERS):
        slots = np.arange(lo, min(lo + SLICE_ORDERS, total), dtype=np.int64)
        account = np.searchsorted(ends, slots, side="right")
        yield account, slots - (ends[account] - counts[account])


def _history_orders(
    rng: np.random.Generator,
    acc: _Accounts,
    standard: np.ndarray,
    next_no: int,
    end_ts: int,
) -> Iterator[_OrderBatch]:
    """All orders of a block of accounts up to the horizon, in slices."""
    for account, k in _order_slots(acc, standard):
        uniform = rng.random(len(k))
        is_autoship = k >= standard[account]
        start, end = acc.start[account], acc.end[account]
        day = start + np.floor(uniform * (end - start + 1)).astype(np.int64)
        at_enrolment = (k == 0) & acc.first_at_enrolment[account]
        day[at_enrolment] = acc.enrolled[account[at_enrolment]]
        autoship_from = acc.autoship_from[account]
        autoship_day = _month_day(
            _month_index(autoship_from) + k - standard[account],
            _day_of_month(autoship_from),
        )
        day = np.where(is_autoship, autoship_day, day)
        order = np.lexsort((day, account))
        # the first order of an account is its earliest (the k = 0 slot is not always):
        # the earliest in the slice of an account whose slot 0 is in it
        ordered = account[order]
        earliest = np.ones(len(ordered), dtype=bool)
        earliest[1:] = ordered[1:] != ordered[:-1]
        batch = _make_orders(
            rng,
            next_no,
            acc,
            ordered,
            day[order],
            is_autoship[order],
            end_ts,
            first_order=earliest & np.isin(ordered, account[k == 0]),
        )
        next_no += batch.distinct
        yield batch


def _standard_counts(rng: np.random.Generator, acc: _Accounts, rate: float) -> np.ndarray:
    span_years = (acc.end - acc.start + 1) / 365.0
    extra = rng.poisson(np.where(acc.buyer, rate * acc.rate * span_years, 0.0))
    return np.where(acc.buyer, 1 + extra, 0)


@dataclass
class _Plan:
    accounts: int
    export_day: int
    seed: int
    rate: float  # calibrated purchase rate multiplier
    no_orders: bool

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        for index, lo in enumerate(range(1, self.accounts + 1, CHUNK_ACCOUNTS)):
            yield (
                index,
                np.arange(lo, min(lo + CHUNK_ACCOUNTS, self.accounts + 1), dtype=np.int64),
            )

    def core(self, index: int, numbers: np.ndarray) -> _Accounts:
        rng = _rng(self.seed, _CORE, index)
        enrolled = _enrolment_days(rng, numbers, self.accounts, self.export_day)
        return _core(rng, numbers, enrolled, self.export_day)


def _calibrate(accounts: int, export_day: int, seed: int, orders: int) -> _Plan:
    """One cheap pass over the accounts' behaviour to find the purchase rate that makes
    the expected number of order rows equal to ``orders``."""
    plan = _Plan(accounts, export_day, seed, 0.0, orders <= 0)
    if plan.no_orders:
        return plan
    fixed = 0.0
    variable = 0.0
    for index, numbers in plan.chunks():
        acc = plan.core(index, numbers)
        fixed += acc.buyer.sum() + acc.autoship_orders.sum()
        variable += (acc.rate * (acc.end - acc.start + 1) / 365.0)[acc.buyer].sum()
    wanted = orders / (1 + REEXPORT_RATE)
    plan.rate = max(0.0, (wanted - fixed) / variable) if variable > 0 else 0.0
    return plan
