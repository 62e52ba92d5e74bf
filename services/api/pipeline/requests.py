"""Registering requests, reading them, and the manager's changes: status, hand-over, text,
a contact person added later (rules 30-31)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement

from services.api.auth.cache import Principal
from services.api.errors import Forbidden, NotFound, Unprocessable
from services.api.pipeline.access import administers
from services.api.pipeline.catalogue import manager_candidate
from services.api.pipeline.contacts import create_profile
from services.api.pipeline.schemas import ContactIn, ProfileRef, RequestChange, RequestIn
from shared.models import Customer, PipelineRequest
from shared.pipeline.codes import Caller, DecisionMaker, EventKind, RequestStatus
from shared.pipeline.delegation import acting_manager, active_at
from shared.pipeline.statuses import request_status_after
from shared.pipeline.store import PipelineStore


async def _profile(
    store: PipelineStore, ref: ProfileRef, *, user_id: int, partner_id: int | None = None
) -> Customer:
    if ref.new is not None:
        return await create_profile(store, ref.new, user_id=user_id, partner_id=partner_id)
    assert ref.id is not None
    found = await store.customer(ref.id)
    if found is None:
        raise NotFound(f"profile {ref.id} not found")
    if found.anonymised_at is not None:
        raise Unprocessable(f"profile {ref.id} is anonymised", code="profile_anonymised")
    return found


async def register(store: PipelineStore, principal: Principal, body: RequestIn) -> PipelineRequest:
    """The request, its new profiles and its first history entry, in the caller's unit of
    work. The manager defaults to the registering employee (seed 000, step 5)."""
    if body.service_id is not None:
        service = await store.service(body.service_id)
        if service is None:
            raise NotFound(f"service {body.service_id} not found")
        if service.kind != body.kind.value:
            raise Unprocessable(
                f"service {service.id} is a {service.kind}, not a {body.kind.value}",
                code="service_kind_mismatch",
            )
    manager = await manager_candidate(store, body.manager_id or principal.user_id)
    contact = None
    if body.contact is not None:
        contact = await _profile(store, body.contact, user_id=principal.user_id)
    prospect = await _profile(
        store,
        body.prospect,
        user_id=principal.user_id,
        partner_id=contact.id if contact is not None else None,
    )
    if contact is not None and contact.id == prospect.id:
        raise Unprocessable(
            "the contact person and the prospect are one profile", code="same_profile"
        )
    caller_decides = (
        DecisionMaker.contact if body.caller == Caller.contact else DecisionMaker.prospect
    )
    request = PipelineRequest(
        tenant_id=store.tenant_id,
        kind=body.kind.value,
        service_id=body.service_id,
        status=RequestStatus.new.value,
        description=body.description,
        prospect_id=prospect.id,
        contact_id=contact.id if contact is not None else None,
        relation=body.relation.value if contact is not None and body.relation else None,
        decision_maker=(body.decision_maker or caller_decides).value,
        registered_by_id=principal.user_id,
        manager_id=manager.id,
    )
    store.session.add(request)
    await store.session.flush()
    await store.record(
        request.id,
        user_id=principal.user_id,
        kind=EventKind.registered,
        changes={
            "status": request.status,
            "manager_id": request.manager_id,
            "prospect_id": request.prospect_id,
            "contact_id": request.contact_id,
            "caller": body.caller.value,
        },
    )
    return request


async def found_request(
    store: PipelineStore, request_id: int, *, for_update: bool = False
) -> PipelineRequest:
    request = await store.request(request_id, for_update=for_update)
    if request is None:
        raise NotFound(f"request {request_id} not found")
    return request


async def stand_ins_at(store: PipelineStore, now: datetime) -> dict[int, int]:
    return active_at(await store.windows_at(now), now)


def may_change(principal: Principal, request: PipelineRequest, stand_ins: dict[int, int]) -> bool:
    """Its manager, whoever handles it for them now, or a team lead."""
    return (
        administers(principal)
        or principal.user_id == request.manager_id
        or principal.user_id == acting_manager(request.manager_id, stand_ins)
    )


def require_change(
    principal: Principal, request: PipelineRequest, stand_ins: dict[int, int]
) -> None:
    if not may_change(principal, request, stand_ins):
        raise Forbidden(
            f"request {request.id} is managed by someone else: ask them or a team lead",
            code="not_your_request",
        )


async def change(
    store: PipelineStore,
    principal: Principal,
    request: PipelineRequest,
    body: RequestChange,
    stand_ins: dict[int, int],
) -> dict[str, Any]:
    """Apply what the body sends; the history entry names old and new values. Returns them."""
    require_change(principal, request, stand_ins)
    changes: dict[str, Any] = {}
    if body.status is not None and body.status.value != request.status:
        new = request_status_after(request.status, body.status)
        changes["status"] = {"old": request.status, "new": new.value}
        request.status = new.value
    if body.manager_id is not None and body.manager_id != request.manager_id:
        manager = await manager_candidate(store, body.manager_id)
        changes["manager_id"] = {"old": request.manager_id, "new": manager.id}
        request.manager_id = manager.id
    if body.description is not None and body.description != request.description:
        changes["description"] = {"old": request.description, "new": body.description}
        request.description = body.description
    if changes:
        await store.record(
            request.id, user_id=principal.user_id, kind=EventKind.changed, changes=changes
        )
    return changes


async def set_contact(
    store: PipelineStore,
    principal: Principal,
    request: PipelineRequest,
    body: ContactIn,
    stand_ins: dict[int, int],
) -> None:
    require_change(principal, request, stand_ins)
    contact = await _profile(
        store, body.contact, user_id=principal.user_id, partner_id=request.prospect_id
    )
    if contact.id == request.prospect_id:
        raise Unprocessable(
            "the contact person and the prospect are one profile", code="same_profile"
        )
    changes: dict[str, Any] = {
        "contact_id": {"old": request.contact_id, "new": contact.id},
        "relation": {"old": request.relation, "new": body.relation.value},
    }
    request.contact_id = contact.id
    request.relation = body.relation.value
    if body.decision_maker is not None and body.decision_maker.value != request.decision_maker:
        changes["decision_maker"] = {
            "old": request.decision_maker,
            "new": body.decision_maker.value,
        }
        request.decision_maker = body.decision_maker.value
    await store.record(
        request.id, user_id=principal.user_id, kind=EventKind.contact_set, changes=changes
    )


def list_conditions(
    *,
    handled_by: set[int] | None = None,
    manager_id: int | None = None,
    statuses: Sequence[RequestStatus] = (),
) -> list[ColumnElement[bool]]:
    """The filters of the request list: handled by me (my requests and those delegated to
    me now), a manager's, some statuses."""
    conditions: list[ColumnElement[bool]] = []
    if handled_by is not None:
        conditions.append(PipelineRequest.manager_id.in_(sorted(handled_by)))
    if manager_id is not None:
        conditions.append(PipelineRequest.manager_id == manager_id)
    if statuses:
        conditions.append(PipelineRequest.status.in_([s.value for s in statuses]))
    return conditions
