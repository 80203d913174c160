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
import contextlib
import gzip as gzip_module
import os
import queue
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import ClassVar

import numpy as np

from next_steps.ingest.contract import (
    ACCOUNTS,
    EXPORT_FILES,
    ORDERS,
    SUCCESS_MARKER,
    header,
    value_set,
)

__all__ = ["generate_export", "generate_nights", "main"]

CHUNK_ACCOUNTS = 10_000
SLICE_ORDERS = 100_000

HEADERS = tuple(header(spec) for spec in EXPORT_FILES)
FILE_STEMS = tuple(spec.name for spec in EXPORT_FILES)

DAY = 86_400
ENROLMENT_SPAN_DAYS = 1096  # three years of enrolments
HISTORY_DAYS = 913  # 30 months of order history
ENROLMENT_GROWTH = 1.4  # enrolment density grows like t ** 0.4: a growing company

# --- accounts --------------------------------------------------------------------------

# The enums are the contract's (the suites' value sets, in their order); the tables of
# probabilities per type or status below follow that order.
ACCOUNT_TYPES = value_set(ACCOUNTS, "account_type")
RETAIL, PREFERRED, DISTRIBUTOR = map(ACCOUNT_TYPES.index, ("retail", "preferred", "distributor"))
ACCOUNT_TYPE_P = (0.65, 0.17, 0.18)
ACCOUNT_STATUSES = value_set(ACCOUNTS, "status")
ACTIVE, INACTIVE, TERMINATED = map(ACCOUNT_STATUSES.index, ("active", "inactive", "terminated"))
ACCOUNT_STATUS_P = (0.885, 0.10, 0.015)
NEW_ACCOUNT_DAYS = 60  # accounts this young are active, distributors this young rank 0
RANK_P = (0.42, 0.24, 0.14, 0.08, 0.05, 0.03, 0.02, 0.013, 0.007)
COMPANY_ENROLLED_P = 0.03
SAME_COUNTRY_AS_SPONSOR_P = 0.6
SPONSOR_RANK_POWER = 2.0  # the chance to recruit grows like (1 + rank) ** 2
# share among all accounts of a type; only active accounts run an autoship
AUTOSHIP_P = (0.08, 0.35, 0.25)
OPT_OUT_P = 0.15

COUNTRIES = ("US", "CA", "GB", "PL", "DE", "FR", "RU", "MX")
COUNTRY_P = (0.38, 0.08, 0.09, 0.11, 0.10, 0.07, 0.07, 0.10)
LANGUAGES = ("en", "es", "fr", "pl", "de", "ru")
# per country: (first language, second language, probability of the first)
COUNTRY_LANGUAGES = (
    (0, 1, 0.90),  # US: en, es
    (0, 2, 0.78),  # CA: en, fr
    (0, 0, 1.0),  # GB
    (3, 3, 1.0),  # PL
    (4, 4, 1.0),  # DE
    (2, 2, 1.0),  # FR
    (5, 5, 1.0),  # RU
    (1, 1, 1.0),  # MX
)
CURRENCIES = ("USD", "CAD", "GBP", "PLN", "EUR", "RUB", "MXN")
COUNTRY_CURRENCY = np.array([0, 1, 2, 3, 4, 4, 5, 6])
LOCAL_PER_USD = (1.0, 1.36, 0.79, 4.0, 0.92, 92.0, 17.5)
PRICE_STEP = (1, 1, 1, 1, 1, 10, 10)  # local price points: 24.95 USD, 2 290.00 RUB

# (first name as written, ASCII form for the e-mail address), per language
FIRST_NAMES = {
    "en": [
        ("James", "james"),
        ("Mary", "mary"),
        ("Olivia", "olivia"),
        ("Liam", "liam"),
        ("Emma", "emma"),
        ("Noah", "noah"),
        ("Ava", "ava"),
        ("Ethan", "ethan"),
        ("Chloe", "chloe"),
        ("Jack", "jack"),
        ("Grace", "grace"),
        ("Ryan", "ryan"),
    ],
    "es": [
        ("José", "jose"),
        ("María", "maria"),
        ("Lucía", "lucia"),
        ("Sofía", "sofia"),
        ("Diego", "diego"),
        ("Mateo", "mateo"),
        ("Valentina", "valentina"),
        ("Camila", "camila"),
        ("Javier", "javier"),
        ("Ximena", "ximena"),
    ],
    "fr": [
        ("Léa", "lea"),
        ("Chloé", "chloe"),
        ("Zoé", "zoe"),
        ("Hugo", "hugo"),
        ("Louis", "louis"),
        ("Manon", "manon"),
        ("Théo", "theo"),
        ("Élodie", "elodie"),
        ("Noémie", "noemie"),
        ("François", "francois"),
    ],
    "pl": [
        ("Anna", "anna"),
        ("Zofia", "zofia"),
        ("Łukasz", "lukasz"),
        ("Małgorzata", "malgorzata"),
        ("Piotr", "piotr"),
        ("Wojciech", "wojciech"),
        ("Agnieszka", "agnieszka"),
        ("Jakub", "jakub"),
        ("Katarzyna", "katarzyna"),
        ("Paweł", "pawel"),
    ],
    "de": [
        ("Jürgen", "juergen"),
        ("Lena", "lena"),
        ("Jonas", "jonas"),
        ("Mia", "mia"),
        ("Lukas", "lukas"),
        ("Sophie", "sophie"),
        ("Björn", "bjoern"),
        ("Jörg", "joerg"),
        ("Anneliese", "anneliese"),
        ("Maximilian", "maximilian"),
    ],
    "ru": [
        ("Дмитрий", "dmitry"),
        ("Анна", "anna"),
        ("Ольга", "olga"),
        ("Сергей", "sergey"),
        ("Наталья", "natalya"),
        ("Алексей", "alexey"),
        ("Екатерина", "ekaterina"),
        ("Иван", "ivan"),
        ("Мария", "maria"),
        ("Юлия", "yulia"),
    ],
}
EMPTY_NAME_P = 0.04
EMPTY_EMAIL_P = 0.03
INVALID_EMAIL_P = 0.02
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
EMAIL_DOMAIN_P = (0.70, 0.20, 0.10)

# --- buying behaviour ------------------------------------------------------------------

BUYER_P = (0.87, 0.95, 0.90)  # per account type, for accounts without autoship
ONE_TIMER_P = (0.55, 0.30, 0.35)  # buyers who never come back
RATE_TYPE_FACTOR = (1.0, 1.3, 1.5)
AUTOSHIP_EXTRA_RATE = 0.4  # autoship accounts place fewer standard orders on top
PROPENSITY_SIGMA = 1.6
PROPENSITY_CAP = 12.0  # the heaviest buyers buy at most this many times the average rate
FIRST_ORDER_AT_ENROLMENT_P = 0.75
MEAN_LIFETIME_DAYS = 600.0
STOPPED_BUYING_DAYS = (120, 520)  # inactive/terminated accounts stopped this long ago

# --- orders ----------------------------------------------------------------------------

ORDER_TYPES = value_set(ORDERS, "order_type")
STANDARD, AUTOSHIP = map(ORDER_TYPES.index, ("standard", "autoship"))
ORDER_STATUSES = value_set(ORDERS, "status")
COMPLETED, CANCELLED, RETURNED = map(ORDER_STATUSES.index, ("completed", "cancelled", "returned"))
CANCELLED_P, RETURNED_P = 0.05, 0.03
FREE_SAMPLE_P = 0.005
# share of cancelled / returned orders whose completed version was exported first:
# 0.05 * 0.13 + 0.03 * 0.45 = 2 % of orders appear twice
REEXPORTED_P = {CANCELLED: 0.13, RETURNED: 0.45}
REEXPORT_RATE = (1 - FREE_SAMPLE_P) * (
    CANCELLED_P * REEXPORTED_P[CANCELLED] + RETURNED_P * REEXPORTED_P[RETURNED]
)
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 8, 7, 5, 3, 2)
LINES_P = {STANDARD: (0.45, 0.30, 0.15, 0.10), AUTOSHIP: (0.50, 0.35, 0.15, 0.0)}
QUANTITIES = (1, 2, 3, 4, 6)
QUANTITY_P = (0.78, 0.15, 0.05, 0.015, 0.005)
DISTRIBUTOR_EXTRA_QUANTITY = 0.5  # distributors buy stock: Poisson extra units per line
DISCOUNT = (0.0, 0.10, 0.25)
AUTOSHIP_DISCOUNT = 0.05
SHIPPING_USD, FREE_SHIPPING_USD = 6.95, 75.0
CATALOGUE_SIZE = 40
SAMPLE_SKU = 900
# later changes kept for delta nights: completed orders of the last weeks that get
# returned or cancelled a few days later
LATE_CHANGE_P = 0.04
LATE_CHANGE_DAYS = (3, 36)
LATE_RETURNED_P = 0.7

# --- delta nights: expected changes per account per night --------------------------------

NIGHT_CHANGES = {
    "opt_out": 0.0008,
    "autoship_on": 0.0005,
    "autoship_off": 0.0003,
    "inactive": 0.0002,
    "terminated": 0.00005,
    "upgrade": 0.0003,
    "rank_up": 0.0005,
}

# rng stream keys
(
    _CORE,
    _PROFILE,
    _COUNTS,
    _DETAIL,
    _LATE,
    _NIGHT,
    _NIGHT_ORDERS,
    _NIGHT_ENROL,
    _NIGHT_COUNTS,
    _NIGHT_DETAIL,
    _NIGHT_LATE,
    _NIGHT_CHANGED,
) = range(1, 13)

ProgressFn = Callable[[str, float], None]


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


def _pick(
    rng: np.random.Generator, probabilities: tuple[float, ...] | np.ndarray, n: int
) -> np.ndarray:
    cumulative = np.cumsum(probabilities, dtype=np.float64)
    cumulative /= cumulative[-1]
    return np.searchsorted(cumulative, rng.random(n), side="right").astype(np.int64)


def _table(values: list[str] | tuple[str, ...]) -> np.ndarray:
    """Strings as a NUL-padded byte matrix, one row per string."""
    encoded = [v.encode("utf-8") for v in values]
    out = np.zeros((len(encoded), max(1, max(len(e) for e in encoded))), dtype=np.uint8)
    for i, e in enumerate(encoded):
        out[i, : len(e)] = np.frombuffer(e, dtype=np.uint8)
    return out


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _as_date(day: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(day))


def _day_of_month(days: np.ndarray) -> np.ndarray:
    d = days.astype("datetime64[D]")
    return (d - d.astype("datetime64[M]")).astype(np.int64) + 1


def _month_index(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _month_day(month: np.ndarray, dom: np.ndarray) -> np.ndarray:
    return month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + dom - 1


# --- fixed tables ------------------------------------------------------------------------

_NAME_LIST = [n for lang in LANGUAGES for n in FIRST_NAMES[lang]]
_NAME_OFFSET = np.cumsum([0] + [len(FIRST_NAMES[lang]) for lang in LANGUAGES])[:-1]
_NAME_COUNT = np.array([len(FIRST_NAMES[lang]) for lang in LANGUAGES])
_T_NAME = _table([n for n, _ in _NAME_LIST] + [""])
_T_NAME_ASCII = _table([a for _, a in _NAME_LIST] + ["member"])
_T_ACCOUNT_TYPE = _table(ACCOUNT_TYPES)
_T_ACCOUNT_STATUS = _table(ACCOUNT_STATUSES)
_T_COUNTRY = _table(COUNTRIES)
_T_LANGUAGE = _table(LANGUAGES)
_T_BOOL = _table(("false", "true"))
_T_ORDER_TYPE = _table(ORDER_TYPES)
_T_ORDER_STATUS = _table(ORDER_STATUSES)
_T_CURRENCY = _table(CURRENCIES)
# e-mail pieces: name, separator, number, at-sign, domain
_T_SEPARATOR = _table((".", " "))
_T_AT = _table(("@", "", "@@"))
_T_DOMAIN = _table((*EMAIL_DOMAINS, "", "example"))
# broken e-mail variants: (separator, at, domain) codes
_BROKEN_EMAILS = np.array([[0, 1, 0], [0, 0, 3], [0, 0, 4], [1, 0, 0], [0, 2, 0]])
_COUNTRY_LANG = np.array([[a, b] for a, b, _ in COUNTRY_LANGUAGES])
_COUNTRY_LANG_P = np.array([p for _, _, p in COUNTRY_LANGUAGES])


def _local_cents(usd: np.ndarray, currency: int, psychological: bool) -> np.ndarray:
    local = usd * LOCAL_PER_USD[currency]
    step = PRICE_STEP[currency]
    if not psychological:
        return np.round(local * 100).astype(np.int64)
    if step == 1:
        return (np.ceil(local) * 100 - 5).astype(np.int64)  # 24.95
    return (np.ceil(local / step) * step * 100).astype(np.int64)  # 2290.00


def _catalogue() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fixed product catalogue, the same for every seed: codes, price per currency,
    point value, popularity. The last entry is the free sample."""
    rng = np.random.default_rng(20_240_601)
    usd = np.clip(np.exp(rng.normal(np.log(35.0), 0.6, CATALOGUE_SIZE)).round(), 10, 190) - 0.05
    codes = np.arange(1, CATALOGUE_SIZE + 1) * 7 % 1000 + 10  # SKU-0017 ... spread out
    prices = np.stack([_local_cents(usd, c, True) for c in range(len(CURRENCIES))], axis=1)
    points = np.round(usd * 80).astype(np.int64)  # 0.8 points per dollar, in cents
    popularity = 1.0 / (np.arange(CATALOGUE_SIZE) + 2.0) ** 0.9
    codes = np.append(codes, SAMPLE_SKU)
    prices = np.vstack([prices, np.zeros((1, len(CURRENCIES)), dtype=np.int64)])
    points = np.append(points, 0)
    return codes, prices, points, popularity


_SKU_CODE, _SKU_PRICE, _SKU_POINTS, _SKU_POPULARITY = _catalogue()
_SAMPLE_INDEX = CATALOGUE_SIZE
_SHIPPING = np.array(
    [_local_cents(np.array([SHIPPING_USD]), c, True)[0] for c in range(len(CURRENCIES))]
)
_FREE_SHIPPING = np.array(
    [_local_cents(np.array([FREE_SHIPPING_USD]), c, False)[0] for c in range(len(CURRENCIES))]
)


# --- rendering -------------------------------------------------------------------------


class _Rows:
    """CSV rows built field by field in a byte matrix, one column of bytes per position.

    Variable-width fields are padded with NUL bytes, which never occur in the data and
    are dropped at the end: the result is the exact CSV text, with no per-row Python.
    No field can contain a comma, quote or line break (all values come from fixed
    tables), so the output is what the csv module writes with minimal quoting.
    """

    def __init__(self, n: int, width: int) -> None:
        self.n = n
        self.buf = np.zeros((width, n), dtype=np.uint8)
        self.pos = 0

    def text(self, literal: bytes) -> None:
        for byte in literal:
            self.buf[self.pos] = byte
            self.pos += 1

    def table(self, table: np.ndarray, codes: np.ndarray) -> None:
        width = table.shape[1]
        self.buf[self.pos : self.pos + width] = table.T[:, codes]
        self.pos += width

    def number(self, values: np.ndarray, min_digits: int = 1) -> None:
        v = np.asarray(values, dtype=np.int64)
        largest = int(v.max()) if v.size else 0
        width = max(min_digits, len(str(largest)))
        for offset in range(width - 1, -1, -1):
            quotient = v // 10
            digit = (v - quotient * 10).astype(np.uint8) + 48
            if width - offset > min_digits:
                digit[v == 0] = 0
            self.buf[self.pos + offset] = digit
            v = quotient
        self.pos += width

    def blank(self, mask: np.ndarray, start: int) -> None:
        """Empty the field(s) written since ``start`` where ``mask`` holds."""
        if mask.any():
            self.buf[start : self.pos, mask] = 0

    def date(self, days: np.ndarray) -> None:
        d = days.astype("datetime64[D]")
        month = d.astype("datetime64[M]")
        year = month.astype("datetime64[Y]")
        self.number(year.astype(np.int64) + 1970, 4)
        self.text(b"-")
        self.number((month - year.astype("datetime64[M]")).astype(np.int64) + 1, 2)
        self.text(b"-")
        self.number((d - month.astype("datetime64[D]")).astype(np.int64) + 1, 2)

    def timestamp(self, seconds: np.ndarray) -> None:
        self.date(seconds // DAY)
        second = seconds % DAY
        self.text(b"T")
        self.number(second // 3600, 2)
        self.text(b":")
        self.number(second // 60 % 60, 2)
        self.text(b":")
        self.number(second % 60, 2)
        self.text(b"Z")

    def money(self, cents: np.ndarray) -> None:
        self.number(cents // 100, 1)
        self.text(b".")
        self.number(cents % 100, 2)

    def bytes(self) -> bytes:
        self.text(b"\n")
        flat = np.ascontiguousarray(self.buf[: self.pos].T).ravel()
        return flat[flat != 0].tobytes()


def _render_orders(o: dict[str, np.ndarray]) -> bytes:
    n = len(o["order_no"])
    if n == 0:
        return b""
    r = _Rows(n, 140)
    r.text(b"O")
    r.number(o["order_no"], 9)
    r.text(b",A")
    r.number(o["account_no"], 7)
    r.text(b",")
    r.timestamp(o["ts"])
    r.text(b",")
    r.table(_T_ORDER_TYPE, o["type"])
    r.text(b",")
    r.table(_T_ORDER_STATUS, o["status"])
    r.text(b",")
    r.table(_T_CURRENCY, o["currency"])
    r.text(b",")
    r.money(o["total"])
    r.text(b",")
    r.money(o["volume"])
    r.text(b",")
    r.timestamp(o["updated"])
    return r.bytes()


def _render_lines(
    order_no: np.ndarray,
    line_no: np.ndarray,
    sku: np.ndarray,
    quantity: np.ndarray,
    unit_price: np.ndarray,
) -> bytes:
    n = len(order_no)
    if n == 0:
        return b""
    r = _Rows(n, 64)
    r.text(b"O")
    r.number(order_no, 9)
    r.text(b",")
    r.number(line_no)
    r.text(b",SKU-")
    r.number(_SKU_CODE[sku], 4)
    r.text(b",")
    r.number(quantity)
    r.text(b",")
    r.money(unit_price)
    return r.bytes()


# --- accounts --------------------------------------------------------------------------


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


# --- orders ----------------------------------------------------------------------------


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
) -> _OrderBatch:
    """Orders (and their lines) of accounts ``acc[which]`` on the given days."""
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
        batch = _make_orders(
            rng, next_no, acc, account[order], day[order], is_autoship[order], end_ts
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


# --- writing ---------------------------------------------------------------------------


class _ExportWriter:
    """Writes the three files of one export night through a background thread (which
    compresses and writes while the next chunk is computed), then renames them into
    place and writes ``_SUCCESS`` last. On any failure the temporary files go away and
    the folder is left without ``_SUCCESS``."""

    def __init__(self, folder: Path, compress: bool) -> None:
        self.folder = folder
        self.suffix = ".csv.gz" if compress else ".csv"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / SUCCESS_MARKER).unlink(missing_ok=True)
        self.tmp = [folder / f".{stem}{self.suffix}.tmp" for stem in FILE_STEMS]
        self.final = [folder / f"{stem}{self.suffix}" for stem in FILE_STEMS]
        self.files = contextlib.ExitStack()
        try:
            self.raw = [self.files.enter_context(p.open("wb")) for p in self.tmp]
            # mtime=0 and a fixed name in the gzip header keep the bytes reproducible
            self.out = [
                self.files.enter_context(
                    gzip_module.GzipFile(
                        filename=f.name[: -len(".gz")],
                        mode="wb",
                        fileobj=raw,
                        mtime=0,
                        compresslevel=6,
                    )
                )
                if compress
                else raw
                for f, raw in zip(self.final, self.raw)
            ]
        except BaseException:
            self._remove_temporary()
            raise
        self.queue: queue.Queue[tuple[int, bytes] | None] = queue.Queue(maxsize=6)
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._run, name="export-writer", daemon=True)
        self.thread.start()
        for i, header_line in enumerate(HEADERS):
            self.write(i, header_line)

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is None:
                try:
                    self.out[item[0]].write(item[1])
                # any failure must reach the caller (write/close), or it would wait forever
                except Exception as exc:
                    self.error = exc

    def write(self, file: int, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        if data:
            self.queue.put((file, data))

    def _stop(self) -> None:
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()

    def close(self) -> None:
        try:
            self._stop()
            if self.error is not None:
                raise self.error
            for out, raw in zip(self.out, self.raw):
                if out is not raw:
                    out.close()
                raw.flush()
                os.fsync(raw.fileno())
            self.files.close()
            for tmp, final in zip(self.tmp, self.final):
                os.replace(tmp, final)
        except BaseException:
            self.abort()
            raise
        other = ".csv" if self.suffix == ".csv.gz" else ".csv.gz"
        for stem in FILE_STEMS:  # a previous run in the other format
            (self.folder / f"{stem}{other}").unlink(missing_ok=True)
        (self.folder / SUCCESS_MARKER).touch()
        _fsync_dir(self.folder)

    def abort(self) -> None:
        """Drop the half-written files; the folder keeps no ``_SUCCESS``."""
        self._stop()
        with contextlib.suppress(OSError, ValueError, zlib.error):
            self.files.close()
        self._remove_temporary()

    def _remove_temporary(self) -> None:
        for tmp in self.tmp:
            tmp.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    """Make the renames and the new ``_SUCCESS`` durable (where the OS allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class _Stats:
    folder: Path
    export_day: int
    accounts: int = 0
    order_rows: int = 0
    distinct_orders: int = 0
    line_rows: int = 0

    def add(self, batch: _OrderBatch) -> None:
        self.order_rows += batch.order_rows
        self.distinct_orders += batch.distinct
        self.line_rows += batch.line_rows

    def as_dict(self) -> dict:
        return {
            "export_dir": str(self.folder),
            "export_date": _as_date(self.export_day).isoformat(),
            "accounts": self.accounts,
            "order_rows": self.order_rows,
            "distinct_orders": self.distinct_orders,
            "line_rows": self.line_rows,
        }


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
    export_date: date,
    orders: int,
    seed: int = 42,
    accounts: int | None = None,
    gzip: bool = False,
    *,
    progress: ProgressFn | None = None,
) -> dict:
    """Write one full export night ``<landing_dir>/<export_date>/`` and return its stats.

    ``orders`` is the number of order rows wanted (the result lands close to it);
    ``accounts`` defaults to orders / 10 (at least 50). An existing folder is replaced:
    its ``_SUCCESS`` goes first and comes back last. ``progress(label, fraction)`` is
    called after every chunk of accounts.
    """
    accounts = _check_arguments(orders, seed, accounts)
    export_day = _days(export_date)
    plan = _calibrate(accounts, export_day, seed, orders)
    folder = Path(landing_dir) / export_date.isoformat()
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
    progress: ProgressFn | None = None,
) -> list[dict]:
    """Write ``nights`` export nights from ``first_date`` on; return one stats dict each.

    The first night is exactly ``generate_export(landing_dir, first_date, orders, seed,
    accounts, gzip)``: the whole history. Every following night (one day later each) is
    a delta: a full accounts snapshot with that day's changes and new enrolments, and
    only the orders created or changed that day. Memory grows with the number of
    accounts (a few bytes each), not with the number of orders.
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
    for night in range(1, nights):
        day = first_day + night
        _night_changes(_rng(seed, _NIGHT, night), state, day)
        newcomers = _new_enrolments(plan, night, day, state.size + 1, tree)
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
        " [--gzip] [--nights N]",
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
