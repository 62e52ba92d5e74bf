"""Reading an import file into raw rows: CSV (header row) or JSON (a list of objects, or
{"rows": [...]}).

A broken row (wrong number of fields, undecodable bytes, a JSON item that is no object) is
yielded with its `error` set, so the caller rejects that row and keeps the others; only a file
that cannot be read at all (no external_id column, malformed JSON) raises `ImportFileError`.
"""

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

EXTERNAL_ID = "external_id"
DELIMITERS = (",", ";", "\t")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class ImportFormat(StrEnum):
    csv = "csv"
    json = "json"


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (answered as 422)."""


@dataclass(slots=True)
class RawRow:
    """One row as read: its line (CSV: file line where it starts, header = 1; JSON: index + 1),
    its values by column name as written in the file, or why it could not be read."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class ImportSource:
    """A readable import file. `rows()` may be iterated more than once (count, then import)."""

    format: ImportFormat

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def rows(self) -> Iterator[RawRow]:
        raise NotImplementedError

    def count(self) -> int:
        """The number of rows `rows()` yields."""
        raise NotImplementedError

    def estimated_rows(self) -> int:
        """A cheap upper bound of `count()`."""
        return self.count()


class CsvSource(ImportSource):
    format = ImportFormat.csv

    def __init__(self, payload: bytes) -> None:
        super().__init__()
        self.payload = payload
        self.delimiter = _sniff_delimiter(payload)
        records = self._records()
        header = next(records, None)
        if header is None or header[1] is None or not any(c.strip() for c in header[1]):
            raise ImportFileError("the file is empty: a CSV import needs a header row")
        self.header = [_clean_header(c) for c in header[1]]
        if EXTERNAL_ID not in self.header:
            raise ImportFileError("the file has no external_id column")
        self._ext_index = self.header.index(EXTERNAL_ID)
        # The first of columns with the same name is read; unnamed columns are not.
        self._columns: list[tuple[int, str]] = []
        seen: set[str] = set()
        for index, name in enumerate(self.header):
            if not name:
                self.warnings.append(f"column {index + 1} has no name and is ignored")
            elif name in seen:
                self.warnings.append(
                    f"column '{printable(name)}' appears more than once; the first is used"
                )
            else:
                seen.add(name)
                self._columns.append((index, name))

    def _records(self) -> Iterator[tuple[int, list[str] | None, str | None]]:
        """(line where the record starts, fields or None, error); blank lines are skipped."""
        text = io.TextIOWrapper(
            io.BytesIO(self.payload), encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        reader = csv.reader(text, delimiter=self.delimiter)
        consumed = 0
        while True:
            start = consumed + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                consumed = reader.line_num
                yield start, None, f"unreadable CSV: {exc}"
                continue
            consumed = reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            yield start, fields, None

    def rows(self) -> Iterator[RawRow]:
        records = self._records()
        next(records, None)  # the header
        width = len(self.header)
        columns = self._columns
        ext_index = self._ext_index
        for line, fields, error in records:
            if fields is None:
                yield RawRow(line, error=error)
            elif len(fields) != width:
                values = {EXTERNAL_ID: fields[ext_index]} if ext_index < len(fields) else {}
                yield RawRow(
                    line,
                    values,
                    error=f"expected {width} fields as in the header, found {len(fields)}",
                )
            else:
                yield RawRow(line, {name: fields[i] for i, name in columns})

    def count(self) -> int:
        return sum(1 for _ in self._records()) - 1

    def estimated_rows(self) -> int:
        lines = self.payload.count(b"\n")
        if not self.payload.endswith(b"\n"):
            lines += 1
        return max(lines - 1, 0)


class JsonSource(ImportSource):
    format = ImportFormat.json

    def __init__(self, payload: bytes) -> None:
        super().__init__()
        try:
            document = json.loads(payload)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
            raise ImportFileError(f"malformed JSON: {_short(exc)}") from exc
        if isinstance(document, dict) and isinstance(document.get("rows"), list):
            document = document["rows"]
        if not isinstance(document, list):
            raise ImportFileError('expected a list of objects or {"rows": [...]}')
        self.items: list[Any] = document
        if self.items and not any(
            isinstance(item, dict) and EXTERNAL_ID in item for item in self.items
        ):
            raise ImportFileError("no row has an external_id")

    def rows(self) -> Iterator[RawRow]:
        for index, item in enumerate(self.items):
            if isinstance(item, dict):
                yield RawRow(index + 1, item)
            else:
                yield RawRow(index + 1, error="the row is not an object")

    def count(self) -> int:
        return len(self.items)


def open_source(payload: bytes, fmt: ImportFormat) -> ImportSource:
    """Reads enough of the file to know it can be imported; raises ImportFileError if not."""
    if fmt == ImportFormat.json:
        return JsonSource(payload)
    return CsvSource(payload)


def _sniff_delimiter(payload: bytes) -> str:
    """The delimiter the header line uses most: ',' (default), ';' (spreadsheets set to a
    decimal comma) or a tab."""
    first = payload[:65536].split(b"\n", 1)[0].decode("utf-8", errors="replace")
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _clean_header(name: str) -> str:
    cleaned = name.strip().strip("\ufeff").strip()
    return EXTERNAL_ID if cleaned.lower() == EXTERNAL_ID else cleaned


def printable(text: str, limit: int = 60) -> str:
    """User input quoted in a message, storable and encodable whatever it held (NUL bytes,
    undecodable bytes), shortened."""
    text = _UNSTORABLE.sub("\ufffd", text)
    return text if len(text) <= limit else text[:limit] + "..."


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."
