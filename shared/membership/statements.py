"""The hot path's statements, built once from the record's columns.

An attempt or outcome changes one membership at the version the agent was handed and appends
one event. On PostgreSQL that is one statement, atomic on its own, sent outside any explicit
transaction (no BEGIN, no COMMIT):

    WITH m AS (UPDATE memberships SET ... WHERE id = :id AND version = :version RETURNING id)
    INSERT INTO events (...) SELECT ... FROM m
    RETURNING id, <which of :p1, :p2, :p3 the blocklist and registers bar>

No row back means someone else wrote first: nothing was written. The bars ride along so
placing the customer afterwards needs no look-up of its own (rules 12, 34). The card read
carries the same bars and the phone consent, so /next checks them on the row it reads
anyway. SQLite cannot put an UPDATE in a WITH, so there the same happens as three statements
in one transaction.
"""

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ARRAY,
    JSON,
    Insert,
    Select,
    String,
    Table,
    Text,
    Update,
    bindparam,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB

from shared.contact.bars import Bars, bar_mask
from shared.membership.record import COLUMNS, STATE_COLUMNS, MembershipRecord
from shared.models import (
    Customer,
    DeliveryStatus,
    Event,
    Membership,
    WebhookDelivery,
    WebhookEndpoint,
)

_memberships = cast(Table, Membership.__table__)
_events = cast(Table, Event.__table__)
_endpoints = cast(Table, WebhookEndpoint.__table__)
_deliveries = cast(Table, WebhookDelivery.__table__)

EVENT_COLUMNS = (
    "tenant_id",
    "customer_id",
    "assignment_id",
    "user_id",
    "kind",
    "code",
    "from_state",
    "to_state",
    "comment",
    "data",
    "created_at",
    "excluded_from_reports",
)
PHONE_PARAMS = ("p1", "p2", "p3")


class CustomerView(NamedTuple):
    """The customer half of a card, as plain columns."""

    id: int
    external_id: str
    first_name: str
    last_name: str
    phone_1: str | None
    phone_2: str | None
    phone_3: str | None
    email: str | None
    language: str | None
    time_zone: str | None
    custom: dict[str, Any]
    country: str | None
    phone_consent: bool | None
    # Which numbers the blocklist and registers bar (shared.contact.bars.bar_mask), read
    # with the card; 0 where no one asked.
    bar_mask: int = 0

    @property
    def phones(self) -> list[str]:
        return [p for p in (self.phone_1, self.phone_2, self.phone_3) if p]

    @property
    def bars(self) -> Bars:
        return Bars.from_mask((self.phone_1, self.phone_2, self.phone_3), self.bar_mask)


_CARD_CUSTOMER = CustomerView._fields[:-1]
# One primary-key read: the membership's columns, then the customer's and its bars (an
# index probe per number and source: a register's size does not show).
CARD_QUERY = (
    select(
        *(_memberships.c[name] for name in COLUMNS),
        *(getattr(Customer, name) for name in _CARD_CUSTOMER),
        bar_mask((Customer.phone_1, Customer.phone_2, Customer.phone_3), bindparam("tenant_id")),
    )
    .join(Customer, Customer.id == Membership.customer_id)
    .where(
        Membership.customer_id == bindparam("customer_id"),
        Membership.tenant_id == bindparam("tenant_id"),
    )
)
_SPLIT = len(COLUMNS)


def card_of(row: Sequence[Any]) -> tuple[MembershipRecord, CustomerView]:
    return MembershipRecord(*row[:_SPLIT]), CustomerView(*row[_SPLIT:])


def _versioned_update() -> Update:
    # Parameters are prefixed: a bind named like a column is reserved in UPDATE ... SET.
    return (
        update(_memberships)
        .where(
            _memberships.c.id == bindparam("m_id"),
            _memberships.c.version == bindparam("m_version"),
        )
        .values(
            {
                name: bindparam(f"m_{name}", type_=_memberships.c[name].type)
                for name in STATE_COLUMNS
            }
            | {"version": _memberships.c.version + 1}
        )
        .returning(_memberships.c.id)
    )


def _bar_mask() -> Any:
    return bar_mask([bindparam(p) for p in PHONE_PARAMS], bindparam("e_tenant_id"))


def _event_values() -> list[Any]:
    return [bindparam(f"e_{name}", type_=_events.c[name].type) for name in EVENT_COLUMNS]


def _one_statement() -> Insert:
    changed = _versioned_update().cte("m")
    return (
        insert(_events)
        .from_select(
            list(EVENT_COLUMNS),
            select(*_event_values()).select_from(changed),
            include_defaults=False,
        )
        .returning(_events.c.id, _bar_mask())
    )


def _one_statement_hooked() -> Select[tuple[int, int, int]]:
    """ONE_STATEMENT that also writes the event's webhook deliveries (PostgreSQL only): one
    row per enabled endpoint of the tenant subscribed to `h_type`, the payload `h_payload`
    (JSON text) with the new event's id set as `data.event_id` (decision 037)."""
    changed = _versioned_update().cte("m")
    event = (
        insert(_events)
        .from_select(
            list(EVENT_COLUMNS),
            select(*_event_values()).select_from(changed),
            include_defaults=False,
        )
        .returning(_events.c.id)
        .cte("e")
    )
    at = bindparam("h_at", type_=_deliveries.c.created_at.type)
    payload = func.jsonb_set(
        sql_cast(bindparam("h_payload", type_=String), JSONB),
        literal(["data", "event_id"], type_=ARRAY(Text)),
        func.to_jsonb(event.c.id),
    )
    rows = (
        select(
            bindparam("e_tenant_id", type_=_events.c.tenant_id.type),
            _endpoints.c.id,
            bindparam("h_message_id", type_=String),
            bindparam("h_type", type_=String),
            bindparam("h_order_key", type_=String),
            sql_cast(payload, JSON),
            literal(DeliveryStatus.pending.value),
            literal(0),
            at,
            literal(0),
            at,
        )
        .select_from(event, _endpoints)
        .where(
            _endpoints.c.tenant_id == bindparam("e_tenant_id"),
            _endpoints.c.enabled.is_(True),
            sql_cast(_endpoints.c.event_types, JSONB).op("?")(bindparam("h_type", type_=String)),
        )
    )
    deliveries = (
        insert(_deliveries)
        .from_select(list(HOOK_COLUMNS), rows, include_defaults=False)
        .returning(_deliveries.c.id)
        .cte("d")
    )
    written = select(func.count()).select_from(deliveries).scalar_subquery()
    return select(event.c.id, _bar_mask(), written)


HOOK_COLUMNS = (
    "tenant_id",
    "endpoint_id",
    "message_id",
    "event_type",
    "order_key",
    "payload",
    "status",
    "attempts",
    "next_attempt_at",
    "replays",
    "created_at",
)

# Built once: constructing a statement per request costs more than running it.
ONE_STATEMENT = _one_statement()
ONE_STATEMENT_HOOKED = _one_statement_hooked()
UPDATE = _versioned_update()
INSERT_EVENT = (
    insert(_events)
    .values({name: v for name, v in zip(EVENT_COLUMNS, _event_values(), strict=True)})
    .returning(_events.c.id)
)
BARS = select(_bar_mask())


def write_params(
    record: MembershipRecord,
    version: int,
    event: Mapping[str, Any],
    phones: Sequence[str],
) -> dict[str, Any]:
    """The parameters of the versioned write: `record` is the membership after the change,
    stored only where the row is still at `version`."""
    params: dict[str, Any] = {"m_id": record.id, "m_version": version}
    for name in STATE_COLUMNS:
        params[f"m_{name}"] = getattr(record, name)
    for name in EVENT_COLUMNS:
        params[f"e_{name}"] = event.get(name)
    params["e_excluded_from_reports"] = False
    padded = [*phones, None, None, None]
    for name, phone in zip(PHONE_PARAMS, padded, strict=False):
        params[name] = phone
    return params
