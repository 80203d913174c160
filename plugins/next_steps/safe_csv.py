"""CSV files that people open in a spreadsheet: no cell may start a formula.

Marketing opens the outreach files, data engineers the quarantine files, in Excel,
LibreOffice or Google Sheets. A spreadsheet reads a cell that begins with ``=``, ``+``,
``-`` or ``@`` (and, in some of them, a tab or a carriage return before one) as a
formula: a first name ``=HYPERLINK("http://x","click")`` becomes a link, others run
commands (OWASP, "CSV Injection"). As OWASP recommends, such a text cell is written
with a single quote in front (``'=HYPERLINK(...)``), which spreadsheets show as text;
the csv module's quoting still escapes embedded quotes, commas and line breaks.

Only text columns are neutralised: a number such as ``-12.50`` in a numeric column is a
value, not a formula, and must stay a number. The warehouse keeps the values as they came;
the loader lists loaded rows with such text in ``ops.flagged_rows``
(:data:`FORMULA_FLAG`, :func:`starts_like_formula_sql`) so the data team sees them.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable, Sequence
from typing import TextIO

#: The characters a cell must not begin with (OWASP): = + - @, tab (0x09), CR (0x0D).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: The rule name in ``ops.flagged_rows`` for a loaded text value that begins with one.
FORMULA_FLAG = "formula_like_text"
#: Put in front of a text cell that begins with one of :data:`FORMULA_TRIGGERS`.
ESCAPE = "'"


def neutralise(value):
    """``value`` as a spreadsheet shows it as text: a string beginning with one of
    :data:`FORMULA_TRIGGERS` gets a leading ``'``; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return ESCAPE + value
    return value


def write_rows(
    handle: TextIO,
    columns: Sequence[str],
    rows: Iterable[Sequence],
    text_columns: Collection[str],
) -> None:
    """Write a header and ``rows`` as CSV (``\\n`` line ends), every cell of a column in
    ``text_columns`` passed through :func:`neutralise`.

    A cell with a comma, a quote, a line feed or a carriage return is quoted. (With
    ``lineterminator="\\n"`` alone the csv module leaves a bare carriage return unquoted,
    and every reader, Python's own among them, would end the row there.)"""
    unknown = set(text_columns) - set(columns)
    if unknown:
        raise ValueError(f"text columns {sorted(unknown)} are not among the columns")
    text = [column in text_columns for column in columns]
    writer = csv.writer(_LineFeedEndings(handle), lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                neutralise(value) if is_text else value
                for value, is_text in zip(row, text, strict=True)
            ]
        )


class _LineFeedEndings:
    """What ``csv.writer`` writes to: its rows end in ``\\r\\n`` (so that the writer
    quotes every cell holding either character) and reach ``handle`` ending in ``\\n``."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle

    def write(self, line: str) -> int:
        # one call per row; no unquoted cell holds \r or \n, so this is the row's end
        return self.handle.write(line.removesuffix("\r\n") + "\n")


def starts_like_formula_sql(expression: str) -> str:
    """SQL (DuckDB) that is true when the text ``expression`` begins with one of
    :data:`FORMULA_TRIGGERS` (NULL when it is NULL)."""
    literals = ", ".join(
        f"'{char}'" if char.isprintable() else f"chr({ord(char)})" for char in FORMULA_TRIGGERS
    )
    return f"left({expression}, 1) in ({literals})"
