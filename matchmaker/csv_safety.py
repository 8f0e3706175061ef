"""CSV that spreadsheets cannot be tricked by: a cell that would start a formula is written with a leading quote.

OWASP (CSV injection): a cell beginning with =, +, -, @, a tab or a carriage return is run as a formula by Excel
and LibreOffice. Such a cell is prefixed with a single quote, which the spreadsheet shows as text; numbers (such as
-5 or +3.2) are left alone, and the importer removes the quote again, so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")


def _needs_quote(text: str) -> bool:
    # A text that itself starts with a quote before such a cell is quoted again, so unescaping is exact.
    if text.startswith("'"):
        return _needs_quote(text[1:])
    return text.startswith(TRIGGERS) and not _NUMBER.match(text)


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if _needs_quote(text) else text


def unescape_cell(text: str) -> str:
    """The importer's exact inverse of safe_cell: unescape_cell(safe_cell(x)) == x for every text."""
    return text[1:] if text.startswith("'") and _needs_quote(text[1:]) else text


class SafeWriter:
    """csv.writer whose every cell passes through safe_cell."""

    def __init__(self, handle, **options) -> None:
        self._writer = csv.writer(handle, **options)

    def writerow(self, row) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)
