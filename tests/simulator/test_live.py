"""The simulator's HTTP backend against the real app: a few dials through the boundary."""

import asyncio

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from services.simulator.live import LiveBackend, provision
from shared.models import Permission, PresentationMode
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


async def test_a_simulated_platform_dials_through_the_api(
    client: httpx.AsyncClient, session: AsyncSession, redis: Redis
) -> None:
    tenant = await create_tenant(session)
    flow = await create_flow(session, tenant)
    assignment = await create_assignment(
        session, tenant, flow, presentation_mode=PresentationMode.predictive.value
    )
    await add_customers(session, redis, assignment, [{}, {}, {}])
    _, admin_token = await create_user(
        session, tenant, name="Admin", permissions=[Permission.administrator.value]
    )
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
            assert live.refused == []

    await asyncio.to_thread(day)
