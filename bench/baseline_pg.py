"""Baseline "pg": the same claim done by PostgreSQL alone, behind the same FastAPI stack.

A claim is the classic PostgreSQL queue: in one transaction, SELECT the first free, unleased
membership of the assignment FOR UPDATE SKIP LOCKED (joined with its customer, for the card),
fewest attempts first, then UPDATE it as leased, then commit. It runs on bench_memberships, a
bench-only copy of the memberships (bench/seed.py) with lease columns and a partial index on
the free rows in claim order, so the project's schema stays untouched and the baseline gets a
fair index. `/done` is the attempt "no answer" (the customer stays free, one attempt more, an
event row: the work of nextcall's attempt), so a closed loop never drains the table; dead rows
pile up as they would in a CRM that keeps its queue in PostgreSQL.

Same engine and pool (shared.infra.db.create_engine from NEXTCALL_DATABASE_URL), same response
schema (CardOut | EmptyOut) as the real /next. No authentication: the agent is named by the
X-Agent header.

    uvicorn bench.baseline_pg:create_app --factory
"""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.seed import LEASE_SECONDS
from services.api.observe import NO_OPENTELEMETRY
from services.api.work.schemas import (
    CardOut,
    CustomerOut,
    EmptyOut,
    LeaseOut,
    MembershipOut,
    OutcomeChoice,
    Reasons,
)
from shared.flows import FlowSpec
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.settings import Settings

CLAIM = text(
    """
    SELECT m.id, m.customer_id, m.assignment_id, m.segment_id, m.state, m.state_set_by,
        m.state_set_by_user_id, m.state_set_at, m.attempts, m.last_attempt_at, m.followup_at,
        m.followup_kind, m.followup_owner_id, m.version,
        c.external_id, c.first_name, c.last_name, c.phone_1, c.phone_2, c.phone_3, c.email,
        c.language, c.time_zone, c.custom
    FROM bench_memberships m JOIN customers c ON c.id = m.customer_id
    WHERE m.assignment_id = :a AND m.state = 'free'
        AND (m.leased_until IS NULL OR m.leased_until < now())
    ORDER BY m.attempts, m.id
    LIMIT 1
    FOR UPDATE OF m SKIP LOCKED
    """
)
LEASE = text(
    "UPDATE bench_memberships SET leased_until = :until, leased_by = :u, lease_token = :tok "
    "WHERE id = :id"
)
RELEASE = text(
    "UPDATE bench_memberships SET leased_until = NULL, leased_by = NULL, lease_token = NULL "
    "WHERE customer_id = :c AND lease_token = :tok RETURNING id"
)
DONE = text(
    """
    UPDATE bench_memberships SET attempts = attempts + 1, last_attempt_at = now(),
        version = version + 1, state_set_by = 'user', state_set_by_user_id = :u,
        state_set_at = now(), leased_until = NULL, leased_by = NULL, lease_token = NULL
    WHERE customer_id = :c AND lease_token = :tok
    RETURNING tenant_id, assignment_id
    """
)
EVENT = text(
    """
    INSERT INTO events (tenant_id, customer_id, assignment_id, user_id, kind, code,
        from_state, to_state, comment, data, created_at)
    VALUES (:t, :c, :a, :u, 'attempt', 'no_answer', 'free', 'free', '', '{}'::json, now())
    RETURNING id
    """
)
FLOW_OF = text(
    "SELECT f.states, f.outcomes FROM assignments a JOIN flows f ON f.id = a.flow_id "
    "WHERE a.id = :a"
)


class LeaseBody(BaseModel):
    lease_id: str


class State:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self.flows: dict[int, FlowSpec] = {}

    async def flow(self, session: AsyncSession, assignment_id: int) -> FlowSpec:
        """The assignment's flow, read once (the real API caches it too)."""
        found = self.flows.get(assignment_id)
        if found is None:
            row = (await session.execute(FLOW_OF, {"a": assignment_id})).one_or_none()
            if row is None:
                raise HTTPException(404, f"assignment {assignment_id} not found")
            found = FlowSpec.model_validate({"states": row[0], "outcomes": row[1]})
            self.flows[assignment_id] = found
        return found


def _card(row: Any, flow: FlowSpec, token: str, until: datetime) -> CardOut:
    phones = [p for p in (row.phone_1, row.phone_2, row.phone_3) if p]
    return CardOut(
        source="free",
        lease=LeaseOut(id=token, expires_at=until),
        customer=CustomerOut(
            id=row.customer_id,
            external_id=row.external_id,
            first_name=row.first_name,
            last_name=row.last_name,
            phones=phones,
            email=row.email,
            language=row.language,
            time_zone=row.time_zone,
            custom=row.custom,
        ),
        membership=MembershipOut(
            assignment_id=row.assignment_id,
            segment_id=row.segment_id,
            state=row.state,
            state_kind=flow.kind_of(row.state).value,
            state_set_by=row.state_set_by,
            state_set_by_user_id=row.state_set_by_user_id,
            state_set_at=row.state_set_at,
            attempts=row.attempts,
            last_attempt_at=row.last_attempt_at,
            followup_at=row.followup_at,
            followup_kind=row.followup_kind,
            followup_owner_id=row.followup_owner_id,
            version=row.version,
        ),
        outcomes=[
            OutcomeChoice(
                code=o.code,
                name=o.name,
                to_state=o.to_state,
                follow_up=o.follow_up.value,
                follow_up_time_required=o.follow_up_time_required,
            )
            for o in flow.outcomes
            if row.state in o.from_states
        ],
    )


def _empty() -> EmptyOut:
    reasons = Reasons(
        held=0,
        cooldown=0,
        outside_hours=0,
        blocked=0,
        at_attempt_limit=0,
        waiting_followups=0,
        none_left=True,
    )
    return EmptyOut(reasons=reasons, next_eligible_at=None)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings, process_name="bench-pg")
        app.state.bench = State(create_sessionmaker(engine))
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(title="bench baseline pg", lifespan=lifespan, telemetry=NO_OPENTELEMETRY)

    def state(request: Request) -> State:
        found: State = request.app.state.bench
        return found

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/next/{assignment_id}", response_model=CardOut | EmptyOut)
    async def next_customer(
        assignment_id: int, request: Request, x_agent: Annotated[int, Header()]
    ) -> CardOut | EmptyOut:
        st = state(request)
        async with st.sessionmaker() as session:
            flow = await st.flow(session, assignment_id)
            row = (await session.execute(CLAIM, {"a": assignment_id})).one_or_none()
            if row is None:
                await session.commit()
                return _empty()
            token = secrets.token_urlsafe(12)
            until = datetime.now(UTC) + timedelta(seconds=LEASE_SECONDS)
            await session.execute(LEASE, {"until": until, "u": x_agent, "tok": token, "id": row.id})
            await session.commit()
        return _card(row, flow, token, until)

    @app.post("/release/{assignment_id}/{customer_id}")
    async def release(
        assignment_id: int, customer_id: int, body: LeaseBody, request: Request
    ) -> dict[str, bool]:
        async with state(request).sessionmaker() as session:
            found = await session.scalar(RELEASE, {"c": customer_id, "tok": body.lease_id})
            await session.commit()
        if found is None:
            raise HTTPException(409, "you do not hold this customer")
        return {"released": True}

    @app.post("/done/{assignment_id}/{customer_id}")
    async def done(
        assignment_id: int,
        customer_id: int,
        body: LeaseBody,
        request: Request,
        x_agent: Annotated[int, Header()],
    ) -> dict[str, int]:
        async with state(request).sessionmaker() as session:
            row = (
                await session.execute(DONE, {"c": customer_id, "tok": body.lease_id, "u": x_agent})
            ).one_or_none()
            if row is None:
                await session.rollback()
                raise HTTPException(409, "you do not hold this customer")
            event_id = await session.scalar(
                EVENT, {"t": row.tenant_id, "c": customer_id, "a": row.assignment_id, "u": x_agent}
            )
            await session.commit()
        return {"event_id": int(event_id or 0)}

    return app
