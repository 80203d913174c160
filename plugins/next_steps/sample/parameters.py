"""The sample company's parameters: sizes, shares and rates the generator draws from
(the enums are the export contract's, read from its suites)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from next_steps.ingest.contract import ACCOUNTS, EXPORT_FILES, ORDERS, header, value_set

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
# planted product affinities (issue 17), for the offers to find (tables.planted_*):
# the first line of an account's first order is its entry product (a popularity draw
# fixed per account) with ENTRY_P; every line of its later orders is the entry's
# successor with SUCCESSOR_P; every line after the first of any order is the companion
# of the order's first product with COMPANION_P
ENTRY_P, SUCCESSOR_P, COMPANION_P = 0.7, 0.35, 0.3
SUCCESSOR_STEP = 3  # the successor of product i is product i + 3 (modulo the catalogue)
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
    _NIGHT_LAPSE,
) = range(1, 14)

ProgressFn = Callable[[str, float], None]
