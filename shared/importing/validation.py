"""Checking one imported row: the customer fields and the tenant's custom fields (rule 2).

Pure functions of the row and the tenant's field definitions: no database. What needs the
database (required fields of existing customers, unique-if-filled across the tenant, the
customer's assignment) is checked when the batch is written (shared.importing.upsert).

An empty value (an empty CSV cell, JSON null or "") means "not given": it never overwrites
what an existing customer has.
"""

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers

from shared.customers.phones import DEFAULT_REGION, InvalidPhone
from shared.importing.parsing import EXTERNAL_ID, RawRow, printable
from shared.importing.phones import PhoneNormaliser
from shared.models import FieldType

# Longest values the customers table stores; longer ones reject the row, never the batch.
MAX_EXTERNAL_ID = 200
MAX_NAME = 200
MAX_EMAIL = 320
MAX_LANGUAGE = 20
MAX_ACCOUNT_TYPE = 50
MAX_CITY = 200
MAX_SEGMENT = 200
MAX_TEXT = 4000
MAX_LINK = 2000

PHONE_COLUMNS = ("phone_1", "phone_2", "phone_3")
TEXT_COLUMNS = {
    "first_name": MAX_NAME,
    "last_name": MAX_NAME,
    "language": MAX_LANGUAGE,
    "account_type": MAX_ACCOUNT_TYPE,
    "city": MAX_CITY,
}
# Columns of the customers table an import may set, besides external_id.
CUSTOMER_COLUMNS = (
    "first_name",
    "last_name",
    *PHONE_COLUMNS,
    "email",
    "language",
    "time_zone",
    "account_type",
    "city",
    "country",
)
SEGMENT = "segment"
# JSON only: a nested object of custom fields, and a list of up to three numbers.
CUSTOM_OBJECT = "custom"
PHONE_LIST = "phones"

# One per region for every import of the process: what it learns of number shapes holds for all.
_normaliser = lru_cache(maxsize=64)(PhoneNormaliser)
_BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_EMAIL_LOCAL = re.compile(r"^[^\s@\"(),:;<>\[\]\\]+$")
_EMAIL_LABEL = re.compile(r"^[^\s@\"(),:;<>\[\]\\._-][^\s@\"(),:;<>\[\]\\.]*$")


class RowProblem(ValueError):
    """One reason a row is rejected."""


class FieldDefinition(Protocol):
    """What an import needs of a CustomFieldDefinition."""

    @property
    def key(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def required(self) -> bool: ...
    @property
    def unique_if_filled(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class FieldRule:
    key: str
    type: FieldType
    required: bool = False
    unique_if_filled: bool = False


@dataclass(frozen=True)
class FieldRules:
    """A tenant's custom field definitions, by key."""

    by_key: Mapping[str, FieldRule] = field(default_factory=dict)

    @classmethod
    def from_definitions(cls, definitions: Iterable[FieldDefinition]) -> "FieldRules":
        return cls(
            {
                d.key: FieldRule(d.key, FieldType(d.type), d.required, d.unique_if_filled)
                for d in definitions
            }
        )

    @property
    def required(self) -> list[str]:
        return [k for k, r in self.by_key.items() if r.required]

    @property
    def unique(self) -> list[str]:
        return [k for k, r in self.by_key.items() if r.unique_if_filled]


@dataclass(slots=True)
class CustomerRow:
    """A row that passed validation: only the fields it gives, normalised."""

    line: int
    external_id: str
    fields: dict[str, str] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    segment: str | None = None


@dataclass(slots=True)
class RowError:
    line: int | None
    external_id: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "external_id": self.external_id, "reason": self.reason}


# How a column of the file is read: ("customer", column) | ("custom", key) | ("segment", "")
# | ("custom_object", "") | ("phones", "") | ("ignore", name).
_Target = tuple[str, str]


class RowValidator:
    """Validates raw rows against the tenant's fields; collects each unknown column once."""

    def __init__(self, rules: FieldRules, *, region: str = DEFAULT_REGION) -> None:
        self.rules = rules
        # National numbers are read as the row's country's, else the tenant's region's.
        self.region = region
        self.warnings: list[str] = []
        self._unknown: set[str] = set()
        self._known: dict[str, _Target] = {}
        for name in (EXTERNAL_ID, *CUSTOMER_COLUMNS):
            self._known[name] = ("customer", name)
        self._known["phone"] = ("customer", "phone_1")
        self._known[SEGMENT] = ("segment", "")
        self._known[PHONE_LIST] = ("phones", "")
        self._known[CUSTOM_OBJECT] = ("custom_object", "")
        self._custom_exact = {key: ("custom", key) for key in rules.by_key}
        self._custom_folded = {key.lower(): ("custom", key) for key in rules.by_key}
        self._targets: dict[str, _Target] = {}

    def _target(self, column: str) -> _Target:
        target = self._targets.get(column)
        if target is not None:
            return target
        folded = column.strip().lower()
        target = (
            self._custom_exact.get(column)
            or self._known.get(folded)
            or self._custom_folded.get(folded)
            or ("ignore", column)
        )
        if target[0] == "ignore":
            self._warn_unknown(column)
        self._targets[column] = target
        return target

    def _warn_unknown(self, name: str) -> None:
        if name not in self._unknown:
            self._unknown.add(name)
            self.warnings.append(
                f"column '{printable(name)}' is not a customer field and was ignored"
            )

    def validate(self, raw: RawRow) -> CustomerRow | RowError:
        external_id, problem = _external_id_of(raw.values)
        if raw.error is not None:
            return RowError(raw.line, external_id, raw.error)
        problems: list[str] = [problem] if problem else []
        row = CustomerRow(raw.line, external_id or "")
        phones: dict[str, str] = {}
        phone_alias: str | None = None
        for column, value in raw.values.items():
            kind, name = self._target(column)
            if kind == "ignore" or name == EXTERNAL_ID:
                continue
            try:
                if kind == "customer":
                    text = _text(value, name)
                    if text is None:
                        continue
                    if name in PHONE_COLUMNS:
                        # "phone" fills phone_1 only when the file gives no phone_1 itself.
                        if column.strip().lower() == "phone":
                            phone_alias = text
                        else:
                            phones[name] = text
                    else:
                        row.fields[name] = _customer_value(name, text)
                elif kind == "custom":
                    self._custom(row, name, value)
                elif kind == "segment":
                    text = _text(value, SEGMENT)
                    if text is not None:
                        if len(text) > MAX_SEGMENT:
                            raise RowProblem(f"segment is longer than {MAX_SEGMENT} characters")
                        row.segment = text
                elif kind == "custom_object":
                    self._custom_object(row, value)
                elif kind == "phones":
                    _phone_list(phones, value)
            except RowProblem as exc:
                problems.append(str(exc))
        if phone_alias is not None and "phone_1" not in phones:
            phones["phone_1"] = phone_alias
        region = row.fields.get("country", self.region)
        for name, text in phones.items():
            try:
                row.fields[name] = _phone(text, name, region=region)
            except RowProblem as exc:
                problems.append(str(exc))
        if problems:
            return RowError(raw.line, external_id, "; ".join(problems))
        return row

    def _custom(self, row: CustomerRow, key: str, value: Any) -> None:
        rule = self.rules.by_key[key]
        converted = custom_value(rule, value)
        if converted is not None:
            row.custom[key] = converted

    def _custom_object(self, row: CustomerRow, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            raise RowProblem("custom must be an object of custom fields")
        problems = []
        for key, item in value.items():
            if key not in self.rules.by_key:
                self._warn_unknown(f"custom.{key}")
                continue
            try:
                self._custom(row, key, item)
            except RowProblem as exc:
                problems.append(str(exc))
        if problems:
            raise RowProblem("; ".join(problems))


def _external_id_of(values: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(the external id, or None; why it is not acceptable, or None)."""
    try:
        text = _text(values.get(EXTERNAL_ID), EXTERNAL_ID)
    except RowProblem as exc:
        return None, str(exc)
    if text is None:
        return None, "external_id is missing"
    if len(text) > MAX_EXTERNAL_ID:
        return _clip(text), f"external_id is longer than {MAX_EXTERNAL_ID} characters"
    return text, None


def _text(value: Any, name: str) -> str | None:
    """The value as stripped text; None when empty."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise RowProblem(f"{name} is not a finite number")
        text = str(int(value)) if value.is_integer() else repr(value)
    else:
        raise RowProblem(f"{name} must be text, not {type(value).__name__}")
    if not text:
        return None
    if _BAD_CHARACTERS.search(text):
        if any("\udc80" <= c <= "\udcff" for c in text):
            raise RowProblem(f"{name} has bytes that are not UTF-8 (the file must be UTF-8)")
        raise RowProblem(f"{name} has characters that are not text")
    return text


def column_value(name: str, text: str, *, region: str = DEFAULT_REGION) -> str:
    """One customer column's stripped, non-empty text as an import stores it (phones in
    E.164, national numbers read as `region`'s); raises RowProblem with the reason. A customer
    edit checks its fields with it too."""
    if name in PHONE_COLUMNS:
        return _phone(text, name, region=region)
    if name == EXTERNAL_ID and len(text) > MAX_EXTERNAL_ID:
        raise RowProblem(f"external_id is longer than {MAX_EXTERNAL_ID} characters")
    return _customer_value(name, text)


def _customer_value(name: str, text: str) -> str:
    if name == EXTERNAL_ID:
        return text
    if name == "email":
        return email(text)
    if name == "time_zone":
        return time_zone(text)
    if name == "country":
        return country(text)
    limit = TEXT_COLUMNS[name]
    if len(text) > limit:
        raise RowProblem(f"{name} is longer than {limit} characters")
    return text


def _phone(text: str, name: str, *, region: str) -> str:
    try:
        return _normaliser(region).normalise(text)
    except InvalidPhone:
        raise RowProblem(f"{name}: '{_clip(text)}' is not a valid phone number") from None


def _phone_list(phones: dict[str, str], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise RowProblem("phones must be a list of phone numbers")
    texts = [t for t in (_text(v, "phones") for v in value) if t is not None]
    if len(texts) > len(PHONE_COLUMNS):
        raise RowProblem(f"at most {len(PHONE_COLUMNS)} phone numbers")
    for name, text in zip(PHONE_COLUMNS, texts, strict=False):
        phones[name] = text


def country(text: str) -> str:
    """An ISO 3166 alpha-2 country code phone numbers are known for ("NO", "fr" -> "FR")."""
    code = text.upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise RowProblem(f"country: '{_clip(text)}' is not a known country code (like NO or FR)")
    return code


def email(text: str) -> str:
    """A syntactically valid address, its domain lower-cased; raises RowProblem."""
    if len(text) > MAX_EMAIL or text.count("@") != 1:
        raise RowProblem(f"'{_clip(text)}' is not an e-mail address")
    local, domain = text.split("@")
    folded = _email_domain(domain)
    if (
        folded is None
        or not local
        or len(local) > 64
        or not _EMAIL_LOCAL.match(local)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
    ):
        raise RowProblem(f"'{_clip(text)}' is not an e-mail address")
    return f"{local}@{folded}"


@lru_cache(maxsize=4096)
def _email_domain(domain: str) -> str | None:
    """The domain lower-cased, None if it is not one; a file's addresses share a few
    domains, so each is checked once."""
    labels = domain.split(".")
    if len(labels) < 2 or not all(
        _EMAIL_LABEL.match(label) and not label.endswith("-") for label in labels
    ):
        return None
    return domain.lower()


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=1024)
def _zone_loads(name: str) -> bool:
    try:
        ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError for malformed keys, OSError
        return False
    return True


def time_zone(text: str) -> str:
    """A zoneinfo name such as 'Europe/Oslo'; raises RowProblem."""
    names = _zone_names()
    known = text in names if names else _zone_loads(text)
    if not known:
        raise RowProblem(f"time_zone '{_clip(text)}' is not a known time zone")
    return text


def custom_value(rule: FieldRule, value: Any) -> Any:
    """A custom field's value checked against its type and normalised; None when empty."""
    name = rule.key
    if rule.type == FieldType.number:
        return _number(value, name)
    text = _text(value, name)
    if text is None:
        return None
    if rule.type == FieldType.text:
        if len(text) > MAX_TEXT:
            raise RowProblem(f"{name} is longer than {MAX_TEXT} characters")
        return text
    if rule.type == FieldType.date:
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise RowProblem(f"{name}: '{_clip(text)}' is not an ISO date (YYYY-MM-DD)") from None
    if rule.type == FieldType.email:
        try:
            return email(text)
        except RowProblem as exc:
            raise RowProblem(f"{name}: {exc}") from None
    if rule.type == FieldType.phone:
        # A custom phone field is read without the row: national numbers as the default region's.
        return _phone(text, name, region=DEFAULT_REGION)
    if rule.type == FieldType.link:
        return _link(text, name)
    raise RowProblem(f"{name} has an unknown type '{rule.type}'")


def _number(value: Any, name: str) -> int | float | None:
    if value is None:
        return None
    number: float
    if isinstance(value, bool):
        raise RowProblem(f"{name}: {value!r} is not a number")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            raise RowProblem(f"{name}: the number is too large") from None
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not _NUMBER.match(text):
            raise RowProblem(f"{name}: '{_clip(text)}' is not a number")
        number = float(text)
    else:
        raise RowProblem(f"{name}: {type(value).__name__} is not a number")
    if not math.isfinite(number):
        raise RowProblem(f"{name}: {value!r} is not a finite number")
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def _link(text: str, name: str) -> str:
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if (
        parts is None
        or len(text) > MAX_LINK
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() for c in text)
    ):
        raise RowProblem(f"{name}: '{_clip(text)}' is not an http or https link")
    return text


def _clip(text: str, limit: int = 60) -> str:
    return printable(text, limit)
