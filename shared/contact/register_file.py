"""Reading a do-not-call register's extract: one number a line, or CSV with the number in the
first column (Reservasjonsregisteret hands out the former, Bloctel the latter)."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from shared.customers.phones import InvalidPhone
from shared.importing.phones import PhoneNormaliser

_FIELD_END = re.compile(r"[,;\t]")
# Rejected lines kept on the import for the administrator to read; the rest are counted.
MAX_ERRORS = 100


@dataclass(slots=True)
class ReadNumbers:
    """A file's numbers in E.164 (each once) and what was refused."""

    numbers: set[str] = field(default_factory=set)
    lines: int = 0
    rejected: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)


def fields(payload: bytes) -> Iterator[tuple[int, str]]:
    """(line number, first field) of each non-empty line; a first line without a digit is a
    header and skipped."""
    text = payload.decode("utf-8-sig", errors="replace")
    for n, line in enumerate(text.splitlines(), 1):
        value = _FIELD_END.split(line, maxsplit=1)[0].strip().strip('"').strip()
        if not value:
            continue
        if n == 1 and not any(c.isdigit() for c in value):
            continue
        yield n, value


def read_numbers(payload: bytes, *, region: str) -> ReadNumbers:
    """Every number of the file, normalised as a customer's would be (national numbers in
    `region`): a number then matches the customers' stored numbers exactly."""
    normaliser = PhoneNormaliser(region)
    read = ReadNumbers()
    for line, value in fields(payload):
        read.lines += 1
        try:
            read.numbers.add(normaliser.normalise(value))
        except InvalidPhone as exc:
            read.rejected += 1
            if len(read.errors) < MAX_ERRORS:
                read.errors.append({"line": line, "reason": str(exc)})
    return read
