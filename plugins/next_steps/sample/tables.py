"""Fixed lookup tables (byte matrices for rendering, the product catalogue and its
local prices) and the small array helpers the generator shares."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from next_steps.sample.parameters import (
    ACCOUNT_STATUSES,
    ACCOUNT_TYPES,
    CATALOGUE_SIZE,
    COUNTRIES,
    COUNTRY_LANGUAGES,
    CURRENCIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    FREE_SHIPPING_USD,
    LANGUAGES,
    LOCAL_PER_USD,
    ORDER_STATUSES,
    ORDER_TYPES,
    PRICE_STEP,
    SAMPLE_SKU,
    SHIPPING_USD,
    SUCCESSOR_STEP,
)


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
# the planted affinities (parameters: ENTRY_P, SUCCESSOR_P, COMPANION_P): product i goes
# with its companion i ^ 1 (0-1, 2-3, ...: neighbours in popularity) and is followed by
# its successor i + SUCCESSOR_STEP
_COMPANION = np.arange(CATALOGUE_SIZE) ^ 1
_SUCCESSOR = (np.arange(CATALOGUE_SIZE) + SUCCESSOR_STEP) % CATALOGUE_SIZE


def _sku_text(index: int) -> str:
    return f"SKU-{int(_SKU_CODE[index]):04d}"


def planted_companions() -> dict[str, str]:
    """Each catalogue product (its SKU as exported) -> the product planted as bought
    with it."""
    return {_sku_text(i): _sku_text(int(_COMPANION[i])) for i in range(CATALOGUE_SIZE)}


def planted_successors() -> dict[str, str]:
    """Each catalogue product -> the product planted as bought after it, by buyers whose
    first order had it as their entry product."""
    return {_sku_text(i): _sku_text(int(_SUCCESSOR[i])) for i in range(CATALOGUE_SIZE)}


def _entry_products(account_no: np.ndarray) -> np.ndarray:
    """Each account's entry product: a popularity draw fixed by the account number (a
    hash, no random stream), so it is the same on every night and in every chunk."""
    mixed = (account_no.astype(np.uint64) + np.uint64(0x632BE59BD9B4E019)) * np.uint64(
        0x9E3779B97F4A7C15
    )
    uniform = (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    cumulative = np.cumsum(_SKU_POPULARITY, dtype=np.float64)
    cumulative /= cumulative[-1]
    return np.searchsorted(cumulative, uniform, side="right").astype(np.int64)


_SHIPPING = np.array(
    [_local_cents(np.array([SHIPPING_USD]), c, True)[0] for c in range(len(CURRENCIES))]
)
_FREE_SHIPPING = np.array(
    [_local_cents(np.array([FREE_SHIPPING_USD]), c, False)[0] for c in range(len(CURRENCIES))]
)
