"""CSV written for people who open it in a spreadsheet: every export of the project goes through here.

Families, staff and platform users type the names, captions and comments that end up in these files; a cell
that starts with ``=``, ``+``, ``-``, ``@`` (or a tab, carriage return or newline, which some spreadsheets skip
before reading a formula) would be run as a formula. Such cells get a leading apostrophe, as OWASP advises.
"""

import csv
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object for csv.writer that hands each written line back instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Iterable, rows: Iterable[Iterable]) -> Iterator[str]:
    """Each row as one CSV line, cells neutralised, for a StreamingHttpResponse or a file."""
    writer = csv.writer(_Echo())
    yield writer.writerow([safe_cell(c) for c in header])
    for row in rows:
        yield writer.writerow([safe_cell(c) for c in row])
