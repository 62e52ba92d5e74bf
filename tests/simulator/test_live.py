"""The simulator's HTTP backend against the real app: a few dials through the boundary."""

import asyncio
import time
from collections import Counter

import httpx
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.simulator.live import LiveBackend, LiveDay, LivePlan, provision, run_live
from shared.models import AgentStateChange, Assignment, Dial, Permission, PresentationMode
from tests.factories import (
    add_customers,
    create_assignment,
    create_flow,
    create_tenant,
    create_user,
)


class _OnLoop(httpx.BaseTransport):
    """A blocking client's requests, sent by the test's loop through the app's client (the
    backend is synchronous, as the simulation that drives it)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient) -> None:
        self.loop, self.client = loop, client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            sent = self.client.build_request(
                request.method, request.url, headers=request.headers, content=request.read()
            )
            answer = await self.client.send(sent)
            return httpx.Response(
                answer.status_code, headers=answer.headers, content=answer.content
            )

        return asyncio.run_coroutine_threadsafe(send(), self.loop).result(30)


async def _predictive(
    session: AsyncSession, redis: Redis, *, customers: int
) -> tuple[int, Assignment, str]:
    """A tenant's predictive assignment with customers, and an administrator's token."""
    tenant = await create_tenant(session)
    flow = await create_flow(session, tenant)
    assignment = await create_assignment(
        session, tenant, flow, presentation_mode=PresentationMode.predictive.value
    )
    await add_customers(session, redis, assignment, [{} for _ in range(customers)])
    _, admin_token = await create_user(
        session, tenant, name="Admin", permissions=[Permission.administrator.value]
    )
    return tenant.id, assignment, admin_token


async def test_a_simulated_platform_dials_through_the_api(
    client: httpx.AsyncClient, session: AsyncSession, redis: Redis
) -> None:
    _, assignment, admin_token = await _predictive(session, redis, customers=3)
    transport = _OnLoop(asyncio.get_running_loop(), client)

    def day() -> None:
        with httpx.Client(transport=transport, base_url="http://test") as http:
            dialer, agents = provision(http, admin_token=admin_token, agents=2)
            live = LiveBackend(
                http, assignment_id=assignment.id, dialer_token=dialer, agents=agents
            )
            live.set_state(0, "ready", 0.0)
            live.set_state(1, "ready", 0.0)
            assert live.calls_to_place(0.0, None) == 2
            first, second = live.reserve(2, 0.0)
            assert live.expire(0.0) == 2
            live.set_state(1, "on_call", 5.0)
            assert live.report(first.dial_id, "answered", 5.0)
            assert live.report(second.dial_id, "no_answer", 25.0)
            assert not live.report(second.dial_id, "no_answer", 25.0)  # reported once
            live.set_state(1, "paused", 95.0)  # leaving after the call
            auth = {"Authorization": f"Bearer {agents[1].token}"}
            state = http.get("/v1/me/state", headers=auth).json()
            assert (state["state"], state["reason"]) == ("paused", "signing out after this call")
            assert live.calls_to_place(95.0, None) == 1  # agent 0 is ready
            assert live.expire(95.0) == 0
            assert live.tally.refused == []

    await asyncio.to_thread(day)


async def test_a_live_shift_moves_agents_and_ends_every_dial(
    client: httpx.AsyncClient, session: AsyncSession, redis: Redis
) -> None:
    """Three minutes of a shift at 40 times the speed: eight seconds with the last calls."""
    tenant_id, assignment, admin_token = await _predictive(session, redis, customers=80)
    transport = _OnLoop(asyncio.get_running_loop(), client)
    # Seed 3: the second dial is answered and the first is not, whatever the server's clock
    # does to the order of the other draws (Telephony's answers_apart).
    plan = LivePlan(
        assignment_id=assignment.id, agents=3, hours=0.05, speed=40, answer_rate=0.5, seed=3
    )

    def shift() -> tuple[LiveDay, float]:
        started = time.monotonic()
        with httpx.Client(transport=transport, base_url="http://test") as http:
            day = run_live(http, plan, admin_token=admin_token)
        return day, time.monotonic() - started

    day, took = await asyncio.to_thread(shift)
    assert not day.stopped and took >= plan.hours * 3600 / plan.speed
    tally = day.tally
    assert tally.refused == [] and tally.double_dials == 0
    # Every dial ended in a result (none is lost here, so none expired).
    assert tally.reserved == sum(tally.reported.values()) > 0
    assert tally.reported.get("answered", 0) > 0 and tally.reported.get("no_answer", 0) > 0
    session.expire_all()
    dials = (await session.scalars(select(Dial).where(Dial.tenant_id == tenant_id))).all()
    assert Counter(d.result for d in dials) == Counter(tally.reported)
    assert all(
        d.agent_id is not None and d.ended_at is not None for d in dials if d.result == "answered"
    )
    # Agents went ready, on a call, to wrap-up and back, and signed off at the end.
    changes = (
        await session.scalars(
            select(AgentStateChange)
            .where(AgentStateChange.tenant_id == tenant_id)
            .order_by(AgentStateChange.id)
        )
    ).all()
    seen = {c.state for c in changes}
    assert {"ready", "on_call", "wrap_up", "signed_off"} <= seen
    last = {c.user_id: c.state for c in changes}
    assert set(last) == {a.user_id for a in day.agents.values()}
    assert set(last.values()) == {"signed_off"}
