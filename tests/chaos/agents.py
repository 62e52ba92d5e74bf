"""Agents at work over real HTTP, each on one API process of a deployment: next, a moment on
the call, an outcome, again; every answer noted with its time, for the checks of a fault."""

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

# The moment an agent spends on a call before its outcome.
ON_CALL_S = 0.1
# An agent with no customer, or answered 503, asks again after this.
PAUSE_S = 0.1


@dataclass(frozen=True)
class Handout:
    customer_id: int
    agent: int
    got: float  # monotonic
    ended: float
    status: int  # the outcome's answer: 200 counts, 409 was refused


@dataclass
class Floor:
    """The agents of one assignment, agent i on API i % len(urls); `answers` holds every
    answer as (time, status, API), a transport error as status 0."""

    urls: list[str]
    tokens: Sequence[str]
    assignment_id: int
    code: str = "not_interested"
    handouts: list[Handout] = field(default_factory=list)
    answers: list[tuple[float, int, int]] = field(default_factory=list)  # time, status, api
    stopped: set[int] = field(default_factory=set)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    holding: dict[int, int] = field(default_factory=dict)  # agent -> customer on screen
    unexpected: list[str] = field(default_factory=list)  # bodies of answers not expected
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def api_of(self, agent: int) -> int:
        return agent % len(self.urls)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._agent(i)) for i in range(len(self.tokens))]

    async def finish(self) -> None:
        self.stop.set()
        await asyncio.gather(*self._tasks)

    def leave(self, api: int) -> set[int]:
        """The agents working through API `api` stop where they are (their cards stay held
        until their leases end); the customers they held."""
        agents = {i for i in range(len(self.tokens)) if self.api_of(i) == api}
        self.stopped |= agents
        return {self.holding[a] for a in agents if a in self.holding}

    def statuses(self) -> Counter[int]:
        return Counter(status for _, status, _ in self.answers)

    def written(self) -> list[int]:
        return [h.customer_id for h in self.handouts if h.status == 200]

    def outage_after(self, at: float, *, apis: set[int] | None = None) -> float:
        """Seconds from `at` to the last answer after it that was not a success or a 409 (a
        503, a transport error) on `apis` (all by default): how long the agents saw the
        fault; 0 if they never did."""
        failed = [
            t
            for t, status, api in self.answers
            if t >= at and status not in (200, 409) and (apis is None or api in apis)
        ]
        return max(failed) - at if failed else 0.0

    async def _agent(self, agent: int) -> None:
        headers = {"Authorization": f"Bearer {self.tokens[agent]}"}
        api = self.api_of(agent)
        async with httpx.AsyncClient(headers=headers, timeout=10) as client:
            while not self.stop.is_set() and agent not in self.stopped:
                r = await self._send(client, api, f"/v1/assignments/{self.assignment_id}/next")
                card = r.json() if r is not None and r.status_code == 200 else {}
                if card.get("status") != "claimed":
                    await asyncio.sleep(PAUSE_S)
                    continue
                got = time.monotonic()
                customer_id = card["customer"]["id"]
                self.holding[agent] = customer_id
                await asyncio.sleep(ON_CALL_S)
                body = {
                    "lease_id": card["lease"]["id"],
                    "version": card["membership"]["version"],
                    "code": self.code,
                }
                # Sent again while the answer is a 503 or none: its lease and version make it
                # safe to repeat (a repeat of a write that counted is refused with 409).
                path = f"/v1/customers/{customer_id}/outcomes"
                while agent not in self.stopped:
                    r = await self._send(client, api, path, body)
                    if r is not None and r.status_code != 503:
                        del self.holding[agent]
                        ended = time.monotonic()
                        self.handouts.append(Handout(customer_id, agent, got, ended, r.status_code))
                        break
                    await asyncio.sleep(PAUSE_S)

    async def _send(
        self, client: httpx.AsyncClient, api: int, path: str, body: object = None
    ) -> httpx.Response | None:
        """One request and its answer; None when none came (the API is gone)."""
        try:
            r = await client.post(f"{self.urls[api]}{path}", json=body)
        except httpx.TransportError:
            self.answers.append((time.monotonic(), 0, api))
            return None
        self.answers.append((time.monotonic(), r.status_code, api))
        if r.status_code not in (200, 409, 503) and len(self.unexpected) < 5:
            self.unexpected.append(f"{path}: {r.status_code} {r.text}")
        return r
