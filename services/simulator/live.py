"""A telephony platform over HTTP: the simulator's model played in real time against an API.

`LiveBackend` offers the calls a simulation makes of its backend (agents' states, how many
calls now, reserve, report, expire) through the dialer boundary (docs/dialer.md) and the
agents' own state endpoint. `run_live` provisions a dialer and agents and runs the engine's
shift with the clock: rings, talk and wrap-up take their time, `speed` times faster. The
server measures what it sees (ring, talk and wrap-up times) on its own clock, so a sped-up run
paces as a real one would with shorter calls.

The simulation's agents and dials are small integers; the API's are user ids and dial ids.
This maps one to the other and keeps the reservations in flight, as a dialer adapter would.
"""

import itertools
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import httpx

from services.simulator.backend import AgentState, Reservation, Result
from services.simulator.engine import Minute, Shift, Simulation
from services.simulator.telephony import Telephony, TelephonyModel

# The reason an agent gives when the simulation pauses it (it leaves after this call).
LEAVING = "signing out after this call"
# The most customers one reservation asks for (the API's limit).
MAX_RESERVE = 100


@dataclass(frozen=True)
class Agent:
    user_id: int
    token: str


@dataclass
class Tally:
    """What the platform did through the API, for the report and the tests."""

    reserved: int = 0
    reported: dict[str, int] = field(default_factory=dict)
    refused: list[dict[str, Any]] = field(default_factory=list)
    """Answers other than 200: the path, status and body."""
    double_dials: int = 0
    """Customers handed out while a dial of theirs was in flight: must stay 0."""


class LiveBackend:
    """One assignment's dialing, through a running API."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        assignment_id: int,
        dialer_token: str,
        agents: dict[int, Agent],
        speed: float = 1.0,
    ) -> None:
        self.client = client
        self.assignment_id = assignment_id
        self._dialer = {"Authorization": f"Bearer {dialer_token}"}
        self.agents = agents
        self.speed = speed
        self._numbers = itertools.count(1)
        # number -> dial id, expiry (epoch s), started (simulated s), customer
        self._dials: dict[int, tuple[str, float, float, int]] = {}
        self._bridging: int | None = None  # the agent the next "answered" goes to
        self._calls: dict[int, str] = {}  # agent -> the dial id of its call
        self.tally = Tally()

    def _call(self, method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
        r = self.client.request(method, path, headers=headers, **kw)
        if r.status_code != 200:
            self.tally.refused.append({"path": path, "status": r.status_code, "body": r.text[:500]})
            return None
        return r.json()

    def _as_agent(self, agent: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.agents[agent].token}"}

    def set_state(self, agent: int, state: AgentState, now: float) -> None:
        """The simulation says what the agent does; the API hears it from the agent or, for a
        call, from the dialer's report (the next `answered` goes to this agent)."""
        if state == "on_call":
            self._bridging = agent
            return
        call = self._calls.pop(agent, None) if state in ("wrap_up", "paused") else None
        if call is not None:
            # The platform saw the call end: the dialer hangs up, the agent goes to wrap-up.
            self._call("POST", f"/v1/dialer/dials/{call}/hangup", self._dialer)
            if state == "wrap_up":
                return
        body: dict[str, Any] = {"state": state}
        if state == "ready":
            body["assignment_id"] = self.assignment_id
        if state == "paused":
            body["reason"] = LEAVING
        self._call("PUT", "/v1/me/state", self._as_agent(agent), json=body)

    def sign_off(self, agent: int) -> None:
        """Off, whatever the agent was doing: its call hung up first."""
        call = self._calls.pop(agent, None)
        if call is not None:
            self._call("POST", f"/v1/dialer/dials/{call}/hangup", self._dialer)
        self._call("PUT", "/v1/me/state", self._as_agent(agent), json={"state": "signed_off"})

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
                customer = int(item["customer_id"])
                self.tally.double_dials += any(d[3] == customer for d in self._dials.values())
                self._dials[number] = (item["dial_id"], expiry, now, customer)
                out.append(Reservation(dial_id=number, customer_id=customer))
            if len(items) < want:
                break
        self.tally.reserved += len(out)
        return out

    def report(self, dial_id: int, result: Result, now: float) -> bool:
        dial = self._dials.pop(dial_id, None)
        if dial is None:
            return False
        dial_id_, _, started, _ = dial
        body: dict[str, Any] = {"result": result}
        if result != "abandoned":  # an abandoned call's ring includes its wait for an agent
            body["ring_seconds"] = round((now - started) / self.speed, 3)
        agent = self._bridging if result == "answered" else None
        if agent is not None:
            body["agent_id"] = self.agents[agent].user_id
            self._bridging = None
        if not self._call("POST", f"/v1/dialer/dials/{dial_id_}/result", self._dialer, json=body):
            return False
        if agent is not None:
            self._calls[agent] = dial_id_
        self.tally.reported[result] = self.tally.reported.get(result, 0) + 1
        return True

    def expire(self, now: float) -> int:
        """Forget reservations past their expiry (the API returned them); the ones left."""
        wall = datetime.now().timestamp()
        for number, (_, expiry, _, _) in list(self._dials.items()):
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


@dataclass(frozen=True)
class LivePlan:
    assignment_id: int
    agents: int = 5
    hours: float = 8.0
    speed: float = 1.0
    """Simulated seconds per second: rings, talk and wrap-up this many times shorter."""
    answer_rate: float = 0.2
    seed: int = 1


@dataclass(frozen=True)
class LiveDay:
    minutes: list[Minute]
    tally: Tally
    agents: dict[int, Agent]
    stopped: bool
    """Ended by `stop` before the shift did."""


class _Stopped(Exception):
    pass


def run_live(
    client: httpx.Client,
    plan: LivePlan,
    *,
    admin_token: str,
    stop: threading.Event | None = None,
) -> LiveDay:
    """One shift of `plan.agents` new agents and a dialer, against the API `client` talks to.

    Reports are never lost here (the accelerated runs test expiry): an adapter reports every
    dial it starts. With `stop` set (or Ctrl-C) the run ends at once; its agents sign off.
    """
    stop = stop or threading.Event()
    dialer, agents = provision(client, admin_token=admin_token, agents=plan.agents)
    backend = LiveBackend(
        client,
        assignment_id=plan.assignment_id,
        dialer_token=dialer,
        agents=agents,
        speed=plan.speed,
    )
    model = TelephonyModel(answer_rate=plan.answer_rate, lost_report_share=0.0)
    started = time.monotonic()

    def wait_until(at: float) -> None:
        if stop.wait(max(0.0, started + at / plan.speed - time.monotonic())):
            raise _Stopped

    simulation = Simulation(
        backend=backend,
        telephony=Telephony(model, seed=plan.seed, answers_apart=True),
        shift=replace(Shift(), agents=plan.agents, hours=plan.hours),
        wait_until=wait_until,
    )
    try:
        minutes, stopped = simulation.run(), False
    except (_Stopped, KeyboardInterrupt):
        minutes, stopped = simulation.minutes, True
        for agent in agents:
            backend.sign_off(agent)
    return LiveDay(minutes=minutes, tally=backend.tally, agents=agents, stopped=stopped)
