"""Accounts and the sponsor tree, a chunk at a time: enrolments, types, statuses,
sponsors, contact details and buying profiles."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from next_steps.sample.parameters import (
    ACCOUNT_STATUS_P,
    ACCOUNT_TYPE_P,
    ACTIVE,
    AUTOSHIP_EXTRA_RATE,
    AUTOSHIP_P,
    BUYER_P,
    COMPANY_ENROLLED_P,
    COUNTRY_P,
    DISTRIBUTOR,
    EMAIL_DOMAIN_P,
    EMPTY_EMAIL_P,
    EMPTY_NAME_P,
    ENROLMENT_GROWTH,
    ENROLMENT_SPAN_DAYS,
    FIRST_ORDER_AT_ENROLMENT_P,
    HISTORY_DAYS,
    INVALID_EMAIL_P,
    MEAN_LIFETIME_DAYS,
    NEW_ACCOUNT_DAYS,
    ONE_TIMER_P,
    OPT_OUT_P,
    PROPENSITY_CAP,
    PROPENSITY_SIGMA,
    RANK_P,
    RATE_TYPE_FACTOR,
    SAME_COUNTRY_AS_SPONSOR_P,
    SPONSOR_RANK_POWER,
    STOPPED_BUYING_DAYS,
)
from next_steps.sample.rendering import _Rows
from next_steps.sample.tables import (
    _BROKEN_EMAILS,
    _COUNTRY_LANG,
    _COUNTRY_LANG_P,
    _NAME_COUNT,
    _NAME_LIST,
    _NAME_OFFSET,
    _T_ACCOUNT_STATUS,
    _T_ACCOUNT_TYPE,
    _T_AT,
    _T_BOOL,
    _T_COUNTRY,
    _T_DOMAIN,
    _T_LANGUAGE,
    _T_NAME,
    _T_NAME_ASCII,
    _T_SEPARATOR,
    _day_of_month,
    _month_day,
    _month_index,
    _pick,
)


@dataclass
class _Accounts:
    """A block of accounts with consecutive numbers (account_id = ``A%07d`` % number)."""

    number: np.ndarray
    enrolled: np.ndarray  # day number
    atype: np.ndarray
    status: np.ndarray
    rank: np.ndarray  # -1 for non-distributors
    autoship: np.ndarray
    # buying behaviour
    buyer: np.ndarray
    start: np.ndarray  # first day the account can buy in the history window
    end: np.ndarray  # last day it buys (the horizon while it keeps buying)
    continuing: np.ndarray  # still buying at the horizon
    first_at_enrolment: np.ndarray
    rate: np.ndarray  # extra standard orders per year, before the global calibration
    autoship_from: np.ndarray  # day of the first autoship order
    autoship_orders: np.ndarray  # autoship orders up to the horizon
    # profile, filled by _profile
    sponsor: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    country: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    language: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    name: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    email_kind: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    email_domain: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    opt_in: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __len__(self) -> int:
        return len(self.number)


def _enrolment_days(
    rng: np.random.Generator, numbers: np.ndarray, total: int, export_day: int
) -> np.ndarray:
    """Non-decreasing enrolment days: account number k sits at quantile (k - 1 + u) / total
    of a distribution whose density grows towards the export date."""
    quantile = (numbers - 1 + rng.random(len(numbers))) / total
    offset = np.floor(ENROLMENT_SPAN_DAYS * quantile ** (1 / ENROLMENT_GROWTH)).astype(np.int64)
    return export_day - ENROLMENT_SPAN_DAYS + 1 + offset


def _core(
    rng: np.random.Generator, numbers: np.ndarray, enrolled: np.ndarray, horizon: int
) -> _Accounts:
    """Type, status, rank, autoship and buying behaviour of a block of accounts, up to
    the horizon day (the export date). Independent of sponsors and countries, so the
    calibration pass can run it alone."""
    n = len(numbers)
    atype = _pick(rng, ACCOUNT_TYPE_P, n)
    status = _pick(rng, ACCOUNT_STATUS_P, n)
    rank = _pick(rng, RANK_P, n)
    autoship_u = rng.random(n)
    buyer_u = rng.random(n)
    one_timer_u = rng.random(n)
    propensity = np.minimum(
        np.exp(rng.normal(-(PROPENSITY_SIGMA**2) / 2, PROPENSITY_SIGMA, n)),
        PROPENSITY_CAP,
    )
    first_u = rng.random(n)
    lifetime = rng.exponential(MEAN_LIFETIME_DAYS, n)
    stopped_u = rng.random(n)
    autoship_start_u = rng.random(n)

    young = enrolled > horizon - NEW_ACCOUNT_DAYS
    founder = numbers == 1
    atype[founder] = DISTRIBUTOR
    status[young | founder] = ACTIVE
    rank = np.where(atype == DISTRIBUTOR, np.where(young, 0, rank), -1)
    rank[founder] = len(RANK_P) - 1

    autoship_p = np.array(AUTOSHIP_P)[atype] / ACCOUNT_STATUS_P[ACTIVE]
    autoship = (status == ACTIVE) & (autoship_u < autoship_p)
    buyer = autoship | (buyer_u < np.array(BUYER_P)[atype])

    start = np.maximum(enrolled, horizon - HISTORY_DAYS)
    end = np.minimum(start + np.floor(lifetime).astype(np.int64), horizon)
    end[autoship] = horizon
    gone = status != ACTIVE
    stop_days = STOPPED_BUYING_DAYS[0] + np.floor(
        stopped_u * (STOPPED_BUYING_DAYS[1] - STOPPED_BUYING_DAYS[0])
    ).astype(np.int64)
    end[gone] = np.minimum(end[gone], horizon - stop_days[gone])
    buyer &= end >= start
    continuing = buyer & (end == horizon)

    first_at_enrolment = (enrolled >= horizon - HISTORY_DAYS) & (
        first_u < FIRST_ORDER_AT_ENROLMENT_P
    )
    one_timer = ~autoship & (one_timer_u < np.array(ONE_TIMER_P)[atype])
    rate = np.where(one_timer | ~buyer, 0.0, propensity * np.array(RATE_TYPE_FACTOR)[atype])
    rate[autoship] *= AUTOSHIP_EXTRA_RATE

    # autoship: a first order between the window start and the horizon (earlier more
    # likely), then every month on the same day (the 28th at the latest)
    first_day = start + np.floor((horizon - start + 1) * autoship_start_u**1.5).astype(np.int64)
    first_day = np.minimum(first_day, horizon)
    dom = _day_of_month(first_day)
    first_month = _month_index(first_day) + (dom > 28)
    dom = np.minimum(dom, 28)
    horizon_month = _month_index(np.array([horizon]))[0]
    last_month = horizon_month - (dom > _day_of_month(np.array([horizon]))[0])
    autoship_orders = np.where(autoship, np.maximum(last_month - first_month + 1, 0), 0)
    autoship_from = _month_day(first_month, dom)
    return _Accounts(
        number=numbers,
        enrolled=enrolled,
        atype=atype,
        status=status,
        rank=rank,
        autoship=autoship,
        buyer=buyer,
        start=start,
        end=end,
        continuing=continuing,
        first_at_enrolment=first_at_enrolment,
        rate=rate,
        autoship_from=autoship_from,
        autoship_orders=autoship_orders,
    )


class _Distributors:
    """Every distributor so far, in account order: number, cumulative sponsor weight,
    country. The only thing kept from one chunk of accounts to the next."""

    def __init__(self) -> None:
        self.size = 0
        self.number = np.zeros(1024, dtype=np.int64)
        self.cumweight = np.zeros(1024, dtype=np.float64)
        self.country = np.zeros(1024, dtype=np.int8)

    def _grow(self, extra: int) -> None:
        need = self.size + extra
        if need <= len(self.number):
            return
        capacity = max(need, 2 * len(self.number))
        for name in ("number", "cumweight", "country"):
            old = getattr(self, name)
            new = np.zeros(capacity, dtype=old.dtype)
            new[: self.size] = old[: self.size]
            setattr(self, name, new)

    def add(self, numbers: np.ndarray, ranks: np.ndarray) -> slice:
        """Register new distributors (numbers above all known ones); returns their slot."""
        self._grow(len(numbers))
        base = self.cumweight[self.size - 1] if self.size else 0.0
        lo = self.size
        self.number[lo : lo + len(numbers)] = numbers
        self.cumweight[lo : lo + len(numbers)] = base + np.cumsum(
            (1.0 + ranks) ** SPONSOR_RANK_POWER
        )
        self.size += len(numbers)
        return slice(lo, self.size)

    def knows(self, number: int) -> bool:
        return self.size > 0 and int(self.number[self.size - 1]) >= number

    def sponsors(self, u: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        """For each account, a distributor with a smaller number, weighted by rank
        (0 when there is none)."""
        known = self.number[: self.size]
        cumweight = self.cumweight[: self.size]
        before = np.searchsorted(known, numbers, side="left")
        has = before > 0
        target = u[has] * cumweight[before[has] - 1]
        pick = np.minimum(np.searchsorted(cumweight, target, side="right"), before[has] - 1)
        out = np.zeros(len(numbers), dtype=np.int64)
        out[has] = known[pick]
        return out

    def country_of(self, numbers: np.ndarray) -> np.ndarray:
        return self.country[np.searchsorted(self.number[: self.size], numbers)].astype(np.int64)


def _profile(rng: np.random.Generator, acc: _Accounts, tree: _Distributors) -> None:
    """Sponsor, country, language, name, e-mail and opt-in of a block of accounts;
    registers its distributors in the tree (once: replays find them there)."""
    n = len(acc)
    company_u = rng.random(n)
    sponsor_u = rng.random(n)
    own_country = _pick(rng, COUNTRY_P, n)
    own_country[acc.number == 1] = 0  # the founder is in the US
    inherit_u = rng.random(n)
    language_u = rng.random(n)
    name_u = rng.random(n)
    empty_name_u = rng.random(n)
    email_u = rng.random(n)
    broken = rng.integers(0, len(_BROKEN_EMAILS), n)
    domain = _pick(rng, EMAIL_DOMAIN_P, n)
    opt_in = rng.random(n) >= OPT_OUT_P

    is_distributor = acc.atype == DISTRIBUTOR
    new_slot = None
    if n and not tree.knows(int(acc.number[0])):
        new_slot = tree.add(acc.number[is_distributor], acc.rank[is_distributor])
    sponsor = tree.sponsors(sponsor_u, acc.number)
    sponsor[company_u < COMPANY_ENROLLED_P] = 0

    # recruits mostly live in their sponsor's country; sponsors in this block come first
    country = own_country.copy()
    inherit = (sponsor > 0) & (inherit_u < SAME_COUNTRY_AS_SPONSOR_P)
    first = int(acc.number[0]) if n else 0
    outside = inherit & (sponsor < first)
    country[outside] = tree.country_of(sponsor[outside])
    inside = np.flatnonzero(inherit & (sponsor >= first))
    parent = sponsor[inside] - first
    while inside.size:
        update = country[parent]
        if np.array_equal(update, country[inside]):
            break
        country[inside] = update
    if new_slot is not None:
        tree.country[new_slot] = country[is_distributor]

    language = _COUNTRY_LANG[country, (language_u >= _COUNTRY_LANG_P[country]).astype(np.int64)]
    name = _NAME_OFFSET[language] + np.floor(name_u * _NAME_COUNT[language]).astype(np.int64)
    name[empty_name_u < EMPTY_NAME_P] = len(_NAME_LIST)
    email_kind = np.where(
        email_u < EMPTY_EMAIL_P,
        -1,
        np.where(email_u < EMPTY_EMAIL_P + INVALID_EMAIL_P, broken, -2),
    )
    acc.sponsor, acc.country, acc.language, acc.name = sponsor, country, language, name
    acc.email_kind, acc.email_domain, acc.opt_in = email_kind, domain, opt_in


def _render_accounts(acc: _Accounts) -> bytes:
    n = len(acc)
    if n == 0:
        return b""
    r = _Rows(n, 200)
    r.text(b"A")
    r.number(acc.number, 7)
    r.text(b",")
    r.table(_T_ACCOUNT_TYPE, acc.atype)
    r.text(b",")
    r.table(_T_ACCOUNT_STATUS, acc.status)
    r.text(b",")
    r.date(acc.enrolled)
    r.text(b",")
    start = r.pos
    r.text(b"A")
    r.number(acc.sponsor, 7)
    r.blank(acc.sponsor == 0, start)
    r.text(b",")
    r.table(_T_NAME, acc.name)
    r.text(b",")
    # e-mail: <name>.<number>@<domain>, or "member" for nameless accounts
    start = r.pos
    valid = acc.email_kind == -2
    broken = _BROKEN_EMAILS[np.maximum(acc.email_kind, 0)]
    r.table(_T_NAME_ASCII, acc.name)
    r.table(_T_SEPARATOR, np.where(valid, 0, broken[:, 0]))
    r.number(acc.number)
    r.table(_T_AT, np.where(valid, 0, broken[:, 1]))
    r.table(_T_DOMAIN, np.where(valid | (broken[:, 2] == 0), acc.email_domain, broken[:, 2]))
    r.blank(acc.email_kind == -1, start)
    r.text(b",")
    r.table(_T_COUNTRY, acc.country)
    r.text(b",")
    r.table(_T_LANGUAGE, acc.language)
    r.text(b",")
    r.table(_T_BOOL, acc.opt_in.astype(np.int64))
    r.text(b",")
    r.table(_T_BOOL, acc.autoship.astype(np.int64))
    r.text(b",")
    start = r.pos
    r.number(np.maximum(acc.rank, 0))
    r.blank(acc.rank < 0, start)
    return r.bytes()
