"""The customer status export of an assignment (issue 4 point 5): one row per membership,
streamed in batches by membership id so that a million rows never sit in memory at once."""

import json
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api.auth.cache import Principal
from services.api.errors import NotFound
from services.api.reports import csv_out
from services.api.reports.schemas import ReportFormat
from services.api.resources import Resources
from shared.membership.moving import flow_of
from shared.models import (
    CORRECTION_STATE,
    Assignment,
    Customer,
    CustomFieldDefinition,
    Meeting,
    Membership,
    Permission,
    Product,
    Segment,
)

BATCH_SIZE = 1000
CUSTOMER_FIELDS = (
    "external_id",
    "first_name",
    "last_name",
    "phone_1",
    "phone_2",
    "phone_3",
    "email",
    "language",
    "time_zone",
    "account_type",
    "city",
)
MEMBERSHIP_FIELDS = (
    "state",
    "state_set_by",
    "state_set_by_user_id",
    "state_set_at",
    "segment_id",
    "attempts",
    "last_attempt_at",
    "followup_at",
    "followup_kind",
    "followup_owner_id",
)
_COLUMNS = (
    Membership.id,
    Membership.customer_id,
    Customer.anonymised_at,
    Customer.custom,
    *(getattr(Customer, name) for name in CUSTOMER_FIELDS),
    *(getattr(Membership, name) for name in MEMBERSHIP_FIELDS),
)
# Currencies whose minor unit is not a hundredth (ISO 4217); the others have two decimals.
_DECIMALS = {"BHD": 3, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "OMR": 3}


@dataclass(frozen=True)
class _Layout:
    """What every row of one export shares: names, custom field keys, what may be shown."""

    assignment_id: int
    tenant_id: int
    custom_keys: list[str]
    state_names: dict[str, str]
    segments: dict[int, str]
    with_money: bool


def _money(amount_minor: int, currency: str) -> str:
    decimals = _DECIMALS.get(currency.upper(), 2)
    return f"{amount_minor / 10**decimals:.{decimals}f} {currency}".strip()


def _product_out(product: Product, with_money: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": product.name,
        "status": product.status,
        "quantity": product.quantity,
    }
    if with_money:
        out["amount_minor"] = product.amount_minor
        out["currency"] = product.currency
    return out


def _product_text(product: dict[str, Any]) -> str:
    detail = product["status"]
    if "amount_minor" in product:
        detail += ", " + _money(product["amount_minor"], product["currency"])
    return f"{product['name']} x {product['quantity']} ({detail})"


async def _batch(
    session: AsyncSession, layout: _Layout, after_id: int, now: datetime
) -> list[dict[str, Any]]:
    members = list(
        await session.execute(
            select(*_COLUMNS)
            .join(Customer, Customer.id == Membership.customer_id)
            .where(
                Membership.assignment_id == layout.assignment_id,
                Membership.tenant_id == layout.tenant_id,
                Membership.id > after_id,
            )
            .order_by(Membership.id)
            .limit(BATCH_SIZE)
        )
    )
    ids = [m.customer_id for m in members]
    products: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for product in await session.scalars(
        select(Product)
        .where(Product.customer_id.in_(ids), Product.assignment_id == layout.assignment_id)
        .order_by(Product.id)
    ):
        products[product.customer_id].append(_product_out(product, layout.with_money))
    meetings: dict[int, datetime] = {
        row.customer_id: row.starts_at
        for row in await session.execute(
            select(Meeting.customer_id, func.min(Meeting.starts_at).label("starts_at"))
            .where(
                Meeting.customer_id.in_(ids),
                Meeting.cancelled_at.is_(None),
                Meeting.starts_at >= now,
            )
            .group_by(Meeting.customer_id)
        )
    }
    rows = []
    for m in members:
        row: dict[str, Any] = {"membership_id": m.id, "customer_id": m.customer_id}
        row.update({name: getattr(m, name) for name in CUSTOMER_FIELDS})
        row["custom"] = {key: (m.custom or {}).get(key) for key in layout.custom_keys}
        row["anonymised_at"] = m.anonymised_at
        row.update({name: getattr(m, name) for name in MEMBERSHIP_FIELDS})
        row["state_name"] = layout.state_names.get(m.state, m.state)
        row["segment"] = layout.segments.get(m.segment_id) if m.segment_id else None
        row["products"] = products.get(m.customer_id, [])
        row["next_meeting_at"] = meetings.get(m.customer_id)
        rows.append(row)
    return rows


async def _rows(
    sessionmaker: async_sessionmaker[AsyncSession], layout: _Layout
) -> AsyncIterator[list[dict[str, Any]]]:
    """Batches of rows; a session per batch, so no connection is held while the client reads."""
    now = datetime.now(UTC)
    after_id = 0
    while True:
        async with sessionmaker() as session:
            batch = await _batch(session, layout, after_id, now)
        if not batch:
            return
        # Read before yielding: the consumer may reshape the rows.
        after_id = batch[-1]["membership_id"]
        yield batch


def _header(layout: _Layout) -> list[str]:
    return [
        "customer_id",
        *CUSTOMER_FIELDS,
        *(f"custom:{key}" for key in layout.custom_keys),
        "anonymised_at",
        "state",
        "state_name",
        "state_set_by",
        "state_set_by_user_id",
        "state_set_at",
        "segment_id",
        "segment",
        "attempts",
        "last_attempt_at",
        "followup_at",
        "followup_kind",
        "followup_owner_id",
        "products",
        "next_meeting_at",
    ]


def _csv_values(row: dict[str, Any], header: Sequence[str]) -> list[Any]:
    flat = {**row, **{f"custom:{k}": v for k, v in row["custom"].items()}}
    flat["products"] = "; ".join(_product_text(p) for p in row["products"])
    return [_cell(flat.get(name)) for name in header]


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def _csv(
    sessionmaker: async_sessionmaker[AsyncSession], layout: _Layout, style: csv_out.CsvStyle
) -> AsyncIterator[str]:
    header = _header(layout)
    yield csv_out.start(style) + csv_out.line(header, style)
    async for batch in _rows(sessionmaker, layout):
        yield "".join(csv_out.line(_csv_values(row, header), style) for row in batch)


async def _json(
    sessionmaker: async_sessionmaker[AsyncSession], layout: _Layout
) -> AsyncIterator[str]:
    yield "["
    first = True
    async for batch in _rows(sessionmaker, layout):
        for row in batch:
            row.pop("membership_id")
            yield ("" if first else ",") + json.dumps(row, default=_cell, ensure_ascii=False)
            first = False
    yield "]"


async def status_export(
    res: Resources,
    principal: Principal,
    assignment_id: int,
    fmt: ReportFormat,
    style: csv_out.CsvStyle = csv_out.CsvStyle.plain,
) -> StreamingResponse:
    async with res.session() as session:
        assignment = await session.get(Assignment, assignment_id)
        if assignment is None or assignment.tenant_id != principal.tenant_id:
            raise NotFound(f"assignment {assignment_id} not found")
        flow = await flow_of(session, assignment)
        custom_keys = list(
            await session.scalars(
                select(CustomFieldDefinition.key)
                .where(CustomFieldDefinition.tenant_id == principal.tenant_id)
                .order_by(CustomFieldDefinition.id)
            )
        )
        segments = {
            row.id: row.name
            for row in await session.execute(
                select(Segment.id, Segment.name).where(Segment.assignment_id == assignment_id)
            )
        }
    layout = _Layout(
        assignment_id=assignment_id,
        tenant_id=principal.tenant_id,
        custom_keys=custom_keys,
        state_names={
            CORRECTION_STATE: "In correction",
            **{s.key: s.name for s in flow.states},
        },
        segments=segments,
        with_money=principal.has(Permission.revenue.value),
    )
    name = f"status-assignment-{assignment_id}.{fmt.value}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == ReportFormat.csv:
        return StreamingResponse(
            _csv(res.sessionmaker, layout, style),
            media_type="text/csv; charset=utf-8",
            headers=headers,
        )
    return StreamingResponse(
        _json(res.sessionmaker, layout), media_type="application/json", headers=headers
    )
