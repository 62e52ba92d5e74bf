"""The pipeline's reads and writes, with domain names; the caller's unit of work commits.

Every query names the tenant: another tenant's ids are simply not found (rule 1).
"""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.customers.search import fold
from shared.models import (
    Customer,
    PipelineDelegation,
    PipelineRequest,
    PipelineRequestEvent,
    PipelineService,
    PipelineServiceMember,
    PipelineTask,
    User,
)
from shared.pipeline.delegation import Window
from shared.pipeline.duplicates import Profile


def service_search_text(name: str, department: str, region: str) -> str:
    return fold(f"{name} {department} {region}")


def profile_of(customer: Customer) -> Profile:
    return Profile(customer.id, customer.display_name, customer.email, customer.phones)


class PipelineStore:
    def __init__(self, session: AsyncSession, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id

    # ---------------------------------------------------------------- people

    async def user(self, user_id: int) -> User | None:
        found = await self.session.get(User, user_id)
        return found if found is not None and found.tenant_id == self.tenant_id else None

    async def users(self, ids: Collection[int]) -> dict[int, User]:
        if not ids:
            return {}
        rows = await self.session.scalars(
            select(User).where(User.tenant_id == self.tenant_id, User.id.in_(list(ids)))
        )
        return {u.id: u for u in rows}

    def active_users(self) -> Select[User]:
        return select(User).where(User.tenant_id == self.tenant_id, User.active.is_(True))

    async def customer(self, customer_id: int) -> Customer | None:
        found = await self.session.get(Customer, customer_id)
        return found if found is not None and found.tenant_id == self.tenant_id else None

    async def customers(self, ids: Collection[int]) -> dict[int, Customer]:
        wanted = [i for i in ids if i]
        if not wanted:
            return {}
        rows = await self.session.scalars(
            select(Customer).where(Customer.tenant_id == self.tenant_id, Customer.id.in_(wanted))
        )
        return {c.id: c for c in rows}

    async def same_email_or_phone(self, email: str | None, phones: Sequence[str]) -> list[Profile]:
        """Profiles that may be the same person (rule 4); anonymised ones are nobody."""
        conditions: list[ColumnElement[bool]] = []
        if email:
            conditions.append(func.lower(Customer.email) == email.lower())
        for phone in phones:
            conditions += [
                c == phone for c in (Customer.phone_1, Customer.phone_2, Customer.phone_3)
            ]
        if not conditions:
            return []
        rows = await self.session.scalars(
            select(Customer)
            .where(
                Customer.tenant_id == self.tenant_id,
                Customer.anonymised_at.is_(None),
                or_(*conditions),
            )
            .order_by(Customer.id)
            .limit(10)
        )
        return [profile_of(c) for c in rows]

    # ---------------------------------------------------------------- catalogue

    def catalogue(self, *, include_inactive: bool) -> Select[PipelineService]:
        query = select(PipelineService).where(PipelineService.tenant_id == self.tenant_id)
        if not include_inactive:
            query = query.where(PipelineService.active.is_(True))
        return query

    async def service(self, service_id: int) -> PipelineService | None:
        found = await self.session.get(PipelineService, service_id)
        return found if found is not None and found.tenant_id == self.tenant_id else None

    async def services(self, ids: Collection[int]) -> dict[int, PipelineService]:
        if not ids:
            return {}
        rows = await self.session.scalars(
            select(PipelineService).where(
                PipelineService.tenant_id == self.tenant_id, PipelineService.id.in_(list(ids))
            )
        )
        return {s.id: s for s in rows}

    async def members(self, service_ids: Collection[int]) -> dict[int, list[int]]:
        """Service -> its colleagues' user ids."""
        found: dict[int, list[int]] = {i: [] for i in service_ids}
        if not service_ids:
            return found
        rows = await self.session.execute(
            select(PipelineServiceMember.service_id, PipelineServiceMember.user_id)
            .where(
                PipelineServiceMember.tenant_id == self.tenant_id,
                PipelineServiceMember.service_id.in_(list(service_ids)),
            )
            .order_by(PipelineServiceMember.user_id)
        )
        for service_id, user_id in rows.all():
            found[service_id].append(user_id)
        return found

    async def set_members(self, service_id: int, user_ids: Collection[int]) -> None:
        current = set((await self.members([service_id]))[service_id])
        wanted = set(user_ids)
        gone = current - wanted
        if gone:
            rows = await self.session.scalars(
                select(PipelineServiceMember).where(
                    PipelineServiceMember.service_id == service_id,
                    PipelineServiceMember.user_id.in_(gone),
                )
            )
            for row in rows:
                await self.session.delete(row)
        for user_id in sorted(wanted - current):
            self.session.add(
                PipelineServiceMember(
                    tenant_id=self.tenant_id, service_id=service_id, user_id=user_id
                )
            )

    async def services_of_users(self) -> dict[int, list[PipelineService]]:
        """User -> the active catalogue services they work in (the colleague search)."""
        rows = await self.session.execute(
            select(PipelineServiceMember.user_id, PipelineService)
            .join(PipelineService, PipelineService.id == PipelineServiceMember.service_id)
            .where(
                PipelineServiceMember.tenant_id == self.tenant_id,
                PipelineService.active.is_(True),
            )
            .order_by(PipelineService.name, PipelineService.id)
        )
        found: dict[int, list[PipelineService]] = {}
        for user_id, service in rows.all():
            found.setdefault(user_id, []).append(service)
        return found

    # ---------------------------------------------------------------- delegations

    async def windows_at(self, now: datetime) -> list[Window]:
        """The delegations active at `now` (a tenant has a handful)."""
        rows = await self.session.scalars(
            select(PipelineDelegation).where(
                PipelineDelegation.tenant_id == self.tenant_id,
                PipelineDelegation.cancelled_at.is_(None),
                PipelineDelegation.starts_at <= now,
                PipelineDelegation.ends_at > now,
            )
        )
        return [window_of(d) for d in rows]

    async def delegations_of(self, user_id: int, *, after: datetime) -> list[PipelineDelegation]:
        """A user's delegations, not cancelled, that end after `after` (to check overlaps)."""
        rows = await self.session.scalars(
            select(PipelineDelegation).where(
                PipelineDelegation.tenant_id == self.tenant_id,
                PipelineDelegation.from_user_id == user_id,
                PipelineDelegation.cancelled_at.is_(None),
                PipelineDelegation.ends_at > after,
            )
        )
        return list(rows)

    def delegations(self, *, now: datetime, user_id: int | None) -> Select[PipelineDelegation]:
        """Current and coming delegations, of or to `user_id` (None: everyone's)."""
        query = select(PipelineDelegation).where(
            PipelineDelegation.tenant_id == self.tenant_id,
            PipelineDelegation.cancelled_at.is_(None),
            PipelineDelegation.ends_at > now,
        )
        if user_id is not None:
            query = query.where(
                or_(
                    PipelineDelegation.from_user_id == user_id,
                    PipelineDelegation.to_user_id == user_id,
                )
            )
        return query

    async def delegation(self, delegation_id: int) -> PipelineDelegation | None:
        found = await self.session.get(PipelineDelegation, delegation_id)
        return found if found is not None and found.tenant_id == self.tenant_id else None

    # ---------------------------------------------------------------- requests

    async def request(self, request_id: int, *, for_update: bool = False) -> PipelineRequest | None:
        query = select(PipelineRequest).where(
            PipelineRequest.id == request_id, PipelineRequest.tenant_id == self.tenant_id
        )
        if for_update:
            query = query.with_for_update()
        found: PipelineRequest | None = await self.session.scalar(query)
        return found

    def requests_where(self, *conditions: ColumnElement[bool]) -> Select[PipelineRequest]:
        return select(PipelineRequest).where(
            PipelineRequest.tenant_id == self.tenant_id, *conditions
        )

    async def count(self, query: Select[Any]) -> int:
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        return total or 0

    async def record(
        self, request_id: int, *, user_id: int, kind: str, changes: dict[str, Any]
    ) -> None:
        """Append to the request's history (flushed: the answer reads it back)."""
        self.session.add(
            PipelineRequestEvent(
                tenant_id=self.tenant_id,
                request_id=request_id,
                user_id=user_id,
                kind=kind,
                changes=changes,
            )
        )
        await self.session.flush()

    async def history(self, request_id: int, *, limit: int) -> Sequence[PipelineRequestEvent]:
        rows = await self.session.scalars(
            select(PipelineRequestEvent)
            .where(
                PipelineRequestEvent.tenant_id == self.tenant_id,
                PipelineRequestEvent.request_id == request_id,
            )
            .order_by(PipelineRequestEvent.id.desc())
            .limit(limit)
        )
        return rows.all()

    # ---------------------------------------------------------------- tasks

    async def task(self, task_id: int, *, for_update: bool = False) -> PipelineTask | None:
        query = select(PipelineTask).where(
            PipelineTask.id == task_id, PipelineTask.tenant_id == self.tenant_id
        )
        if for_update:
            query = query.with_for_update()
        found: PipelineTask | None = await self.session.scalar(query)
        return found

    def tasks_where(self, *conditions: ColumnElement[bool]) -> Select[PipelineTask]:
        return select(PipelineTask).where(PipelineTask.tenant_id == self.tenant_id, *conditions)

    async def tasks_of(self, request_id: int) -> Sequence[PipelineTask]:
        rows = await self.session.scalars(
            self.tasks_where(PipelineTask.request_id == request_id).order_by(PipelineTask.id)
        )
        return rows.all()


def window_of(delegation: PipelineDelegation) -> Window:
    return Window(
        delegation.from_user_id, delegation.to_user_id, delegation.starts_at, delegation.ends_at
    )
