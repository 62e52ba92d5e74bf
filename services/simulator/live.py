"""A telephony platform over HTTP: the simulator's backend calls played against a running API.

`LiveBackend` offers the calls a simulation makes of its backend (agents' states, how many
calls now, reserve, report, expire) through the dialer boundary (docs/dialer.md) and the
agents' own state endpoint, so a simulated day can run against a real nextcall. Time is the
server's: a live run goes at the speed of the clock, not accelerated.

The simulation's agents and dials are small integers; the API's are user ids and dial ids.
This maps one to the other and keeps the reservations in flight, as a dialer adapter would.
"""

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import httpx

Result = Literal["answered", "no_answer", "abandoned"]
State = Literal["signed_off", "ready", "on_call", "wrap_up", "paused"]
# The reason an agent gives when the simulation pauses it (it leaves after this call).
LEAVING = "signing out after this call"
# The most customers one reservation asks for (the API's limit).
MAX_RESERVE = 100


@dataclass(frozen=True)
class Reservation:
    dial_id: int
    customer_id: int


@dataclass(frozen=True)
class Agent:
    user_id: int
    token: str


class LiveBackend:
    """One assignment's dialing, through a running API."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        assignment_id: int,
        dialer_token: str,
        agents: dict[int, Agent],
    ) -> None:
        self.client = client
        self.assignment_id = assignment_id
        self._dialer = {"Authorization": f"Bearer {dialer_token}"}
        self.agents = agents
        self._numbers = itertools.count(1)
        self._dials: dict[int, tuple[str, float]] = {}  # number -> dial id, expiry (epoch s)
        self._bridging: int | None = None  # the agent the next "answered" goes to
        self.refused: list[dict[str, Any]] = []  # answers other than 200, for the report

    def _call(self, method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
        r = self.client.request(method, path, headers=headers, **kw)
        if r.status_code != 200:
            self.refused.append({"path": path, "status": r.status_code, "body": r.text[:500]})
            return None
        return r.json()

    def _as_agent(self, agent: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.agents[agent].token}"}

    def set_state(self, agent: int, state: State, now: float) -> None:
        """The simulation says what the agent does; the API hears it from the agent or, for a
        call, from the dialer's report (the next `answered` goes to this agent)."""
        if state == "on_call":
            self._bridging = agent
            return
        body: dict[str, Any] = {"state": state}
        if state == "ready":
            body["assignment_id"] = self.assignment_id
        if state == "paused":
            # From a call: hang up first (on call -> wrap-up -> paused).
            self._call("PUT", "/v1/me/state", self._as_agent(agent), json={"state": "wrap_up"})
            body["reason"] = LEAVING
        self._call("PUT", "/v1/me/state", self._as_agent(agent), json=body)

    def calls_to_place(self, now: float, floor: object) -> int:
        found = self._call(
            "GET", f"/v1/dialer/assignments/{self.assignment_id}/pacing", self._dialer
        )
        return int(found["calls"]) if found else 0

    def reserve(self, count: int, now: float) -> list[Reservation]:
        out: list[Reservation] = []
        while len(out) < count:
            want = min(MAX_RESERVE, count - len(out))
            found = self._call(
                "POST",
                f"/v1/dialer/assignments/{self.assignment_id}/reservations",
                self._dialer,
                json={"count": want},
            )
            items = found["reservations"] if found else []
            for item in items:
                number = next(self._numbers)
                expiry = datetime.fromisoformat(item["expires_at"]).timestamp()
                self._dials[number] = (item["dial_id"], expiry)
                out.append(Reservation(dial_id=number, customer_id=item["customer_id"]))
            if len(items) < want:
                break
        return out

    def report(self, dial_id: int, result: Result, now: float) -> bool:
        dial = self._dials.pop(dial_id, None)
        if dial is None:
            return False
        body: dict[str, Any] = {"result": result}
        agent = self._bridging if result == "answered" else None
        if agent is not None:
            body["agent_id"] = self.agents[agent].user_id
            self._bridging = None
        return (
            self._call("POST", f"/v1/dialer/dials/{dial[0]}/result", self._dialer, json=body)
            is not None
        )

    def expire(self, now: float) -> int:
        """Forget reservations past their expiry (the API returned them); the ones left."""
        wall = datetime.now().timestamp()
        for number, (_, expiry) in list(self._dials.items()):
            if expiry <= wall:
                del self._dials[number]
        return len(self._dials)


def provision(
    client: httpx.Client, *, admin_token: str, agents: int, name: str = "Simulated"
) -> tuple[str, dict[int, Agent]]:
    """A dialer's machine token and `agents` agents with tokens, made through the admin API."""
    admin = {"Authorization": f"Bearer {admin_token}"}

    def user(label: str, permission: str) -> Agent:
        made = client.post(
            "/v1/users", headers=admin, json={"name": label, "permissions": [permission]}
        )
        made.raise_for_status()
        user_id = int(made.json()["id"])
        token = client.post(f"/v1/users/{user_id}/tokens", headers=admin, json={"name": label})
        token.raise_for_status()
        return Agent(user_id, str(token.json()["token"]))

    dialer = user(f"{name} dialer", "dialer")
    return dialer.token, {i: user(f"{name} agent {i}", "customer_handling") for i in range(agents)}
