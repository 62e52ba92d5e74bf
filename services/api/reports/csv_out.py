"""CSV for the reports: nested counts become one column each, so spreadsheets read them.

Excel in Norwegian or French (where the comma is the decimal sign) splits columns on
semicolons and reads a file as UTF-8 only when it starts with a byte order mark: the
`excel` style writes both (issue 15 point 7).
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

BOM = "\ufeff"


class CsvStyle(StrEnum):
    """plain: commas, no byte order mark; excel: semicolons and a UTF-8 byte order mark."""

    plain = "plain"
    excel = "excel"


@dataclass(frozen=True, slots=True)
class _Dialect:
    delimiter: str
    start: str


_DIALECTS = {CsvStyle.plain: _Dialect(",", ""), CsvStyle.excel: _Dialect(";", BOM)}


def start(style: CsvStyle) -> str:
    """What the file begins with (the byte order mark of the excel style)."""
    return _DIALECTS[style].start


# Nested counts of a report row, and the prefix of their flattened columns.
_NESTED = {"outcomes": "outcome:", "attempts": "attempt:", "money": "money:"}


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """{"outcomes": {"sale": 2}} becomes {"outcome:sale": 2}; other values stay."""
    flat: dict[str, Any] = {}
    for name, value in row.items():
        prefix = _NESTED.get(name)
        if prefix is None:
            flat[name] = value
        else:
            flat.update({f"{prefix}{key}": n for key, n in value.items()})
    return flat


def columns_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Every column any row has, in first-seen order except that the nested counts are
    sorted within their kind (outcome codes, attempt kinds, currencies)."""
    plain: list[str] = []
    nested: dict[str, set[str]] = {prefix: set() for prefix in _NESTED.values()}
    for row in rows:
        for name in row:
            prefix = next((p for p in nested if name.startswith(p)), None)
            if prefix is not None:
                nested[prefix].add(name)
            elif name not in plain:
                plain.append(name)
    # Counts go after the grouped columns and before the scalar metrics.
    first_metric = plain.index("sales") if "sales" in plain else len(plain)
    counts = [*sorted(nested["outcome:"]), *sorted(nested["attempt:"])]
    return [*plain[:first_metric], *counts, *plain[first_metric:], *sorted(nested["money:"])]


def line(values: Iterable[Any], style: CsvStyle = CsvStyle.plain) -> str:
    """One CSV record; None is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=_DIALECTS[style].delimiter)
    writer.writerow(["" if v is None else v for v in values])
    return buffer.getvalue()


def table(rows: Sequence[dict[str, Any]], style: CsvStyle = CsvStyle.plain) -> str:
    """A header row, then one record per report row; a count a row lacks is 0."""
    flat = [flatten(row) for row in rows]
    header = columns_of(flat)
    counted = {name for name in header if any(name.startswith(p) for p in _NESTED.values())}
    out = [start(style), line(header, style)]
    for row in flat:
        out.append(line((row.get(name, 0 if name in counted else None) for name in header), style))
    return "".join(out)
