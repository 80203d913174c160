"""Rows straight into bytes: numpy byte matrices, no per-row Python."""

from __future__ import annotations

import numpy as np

from next_steps.sample.parameters import DAY
from next_steps.sample.tables import _SKU_CODE, _T_CURRENCY, _T_ORDER_STATUS, _T_ORDER_TYPE


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
