"""An Idempotency-Key holds across API processes (issue 14, point 1): the answer to an outcome
whose connection dropped on one process is replayed by another, and nothing is written twice."""

import asyncio
import json
import socket
import time

import httpx
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.idempotency import records
from shared.models import Event
from tests.api.api_process import ApiProcess
from tests.api.contract.conftest import Callers, bearer
from tests.factories import add_customers, create_assignment, create_flow, create_user

# How long the dropped request may take to be written (it usually takes milliseconds).
WRITTEN_WITHIN_S = 20.0


def _send_raw(api: ApiProcess, path: str, body: bytes, headers: dict[str, str]) -> socket.socket:
    """The whole request sent on a connection of its own, its answer not read."""
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{api.port}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head += ["Content-Type: application/json", f"Content-Length: {len(body)}", "", ""]
    sock = socket.create_connection(("127.0.0.1", api.port), timeout=5)
    sock.sendall("\r\n".join(head).encode() + body)
    return sock


async def _until_present(redis: Redis, key: str) -> None:
    deadline = time.monotonic() + WRITTEN_WITHIN_S
    while not await redis.exists(key):
        assert time.monotonic() < deadline, "the request never reached the API"
        await asyncio.sleep(0.01)


async def _replay(
    client: httpx.AsyncClient, api: ApiProcess, path: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    """The client's documented retry: again while the first request still runs."""
    deadline = time.monotonic() + WRITTEN_WITHIN_S
    while True:
        r = await client.post(
            f"{api.url}{path}",
            content=body,
            headers={**headers, "Content-Type": "application/json"},
        )
        if r.status_code != 409 or r.json()["code"] != "idempotency_key_in_use":
            return r
        assert time.monotonic() < deadline, "the first request never finished"
        await asyncio.sleep(0.05)


async def test_an_answer_dropped_on_one_process_is_replayed_by_another(
    apis: list[ApiProcess], session: AsyncSession, redis: Redis, callers: Callers
) -> None:
    flow = await create_flow(session, callers.tenant)
    assignment = await create_assignment(session, callers.tenant, flow, cooldown_seconds=0)
    await add_customers(session, redis, assignment, [{}])
    agent, token = await create_user(session, callers.tenant, name="Caller")
    async with httpx.AsyncClient(timeout=10) as client:
        next_answer = await client.post(
            f"{apis[0].url}/v1/assignments/{assignment.id}/next", headers=bearer(token)
        )
        card = next_answer.json()
    customer_id = card["customer"]["id"]
    path = f"/v1/customers/{customer_id}/outcomes"
    outcome = {
        "lease_id": card["lease"]["id"],
        "version": card["membership"]["version"],
        "code": "not_interested",
    }
    body = json.dumps(outcome).encode()
    keyed = {**bearer(token), "Idempotency-Key": "dropped-1"}

    # The first process has the request (it claimed the key) when the connection drops.
    connection = _send_raw(apis[0], path, body, keyed)
    try:
        await _until_present(redis, records.record_key(callers.tenant.id, agent.id, "dropped-1"))
    finally:
        connection.close()
    async with httpx.AsyncClient(timeout=10) as client:
        replayed = await _replay(client, apis[1], path, body, keyed)
        unkeyed = await _replay(client, apis[1], path, body, bearer(token))

    events = list(
        await session.scalars(
            select(Event.id).where(Event.customer_id == customer_id, Event.kind == "outcome")
        )
    )
    assert len(events) == 1
    assert replayed.status_code == 200, replayed.text
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json()["event_id"] == events[0]
    assert replayed.json()["membership"]["state"] == "not_interested"
    # Without the key, the same request is told apart from a lost lease.
    assert unkeyed.status_code == 409, unkeyed.text
    assert (unkeyed.json()["code"], unkeyed.json()["event_id"]) == ("already_recorded", events[0])
