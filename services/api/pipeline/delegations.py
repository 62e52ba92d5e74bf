"""Delegations (rule 31): a manager's requests handled by a colleague during an absence. A
manager delegates their own; a team lead (pipeline_admin) delegates anyone's, for an unplanned
absence. Nothing moves when one starts or ends: the acting manager is resolved at read time
(shared/pipeline/delegation.py)."""

from datetime import datetime

from services.api.auth.cache import Principal
from services.api.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.api.pipeline.access import administers
from services.api.pipeline.catalogue import manager_candidate
from services.api.pipeline.schemas import DelegationIn, DelegationOut, UserRef
from shared.models import PipelineDelegation, User
from shared.pipeline.store import PipelineStore, window_of


async def delegate(
    store: PipelineStore, principal: Principal, body: DelegationIn, *, now: datetime
) -> PipelineDelegation:
    from_id = body.from_user_id or principal.user_id
    if from_id != principal.user_id and not administers(principal):
        raise Forbidden(
            "only a team lead ('pipeline_admin') delegates someone else's requests",
            code="not_your_request",
        )
    starts_at = body.starts_at or now
    if body.ends_at <= max(starts_at, now):
        raise Unprocessable("'ends_at' must be after 'starts_at' and in the future", code="invalid")
    await manager_candidate(store, from_id)
    await manager_candidate(store, body.to_user_id)
    if body.to_user_id == from_id:
        raise Unprocessable("a delegation goes to someone else", code="invalid")
    delegation = PipelineDelegation(
        tenant_id=store.tenant_id,
        from_user_id=from_id,
        to_user_id=body.to_user_id,
        starts_at=starts_at,
        ends_at=body.ends_at,
        created_by_id=principal.user_id,
    )
    for other in await store.delegations_of(from_id, after=now):
        if window_of(other).overlaps(window_of(delegation)):
            raise Conflict(
                f"user {from_id} has delegated that time already (delegation {other.id})",
                code="delegation_overlaps",
                id=other.id,
            )
    store.session.add(delegation)
    await store.session.flush()
    return delegation


async def cancel(
    store: PipelineStore, principal: Principal, delegation_id: int, *, now: datetime
) -> PipelineDelegation:
    """End a delegation now (back early), or drop a coming one; the requests are back with
    their manager at once."""
    delegation = await store.delegation(delegation_id)
    if delegation is None or delegation.cancelled_at is not None:
        raise NotFound(f"delegation {delegation_id} not found")
    if principal.user_id != delegation.from_user_id and not administers(principal):
        raise Forbidden(
            "only its manager or a team lead ends a delegation", code="not_your_request"
        )
    if delegation.ends_at > now:
        if delegation.starts_at > now:
            delegation.cancelled_at = now
        else:
            delegation.ends_at = now
    await store.session.flush()
    return delegation


def delegation_out(
    delegation: PipelineDelegation, users: dict[int, User], *, now: datetime
) -> DelegationOut:
    def ref(user_id: int) -> UserRef:
        found = users.get(user_id)
        return UserRef(id=user_id, name=found.name if found is not None else "")

    return DelegationOut(
        id=delegation.id,
        from_user=ref(delegation.from_user_id),
        to_user=ref(delegation.to_user_id),
        starts_at=delegation.starts_at,
        ends_at=delegation.ends_at,
        active=delegation.cancelled_at is None and window_of(delegation).active_at(now),
        created_by=ref(delegation.created_by_id),
    )
