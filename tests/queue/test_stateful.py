"""A state machine drives one AssignmentQueue against a pure-Python model of what it must hold.

Agents claim, select, release, register attempts and outcomes, leases expire, time passes and
the queue is rebuilt from the model's homes. After every step the Redis structures must equal
the model's exactly, every customer must be in one place only (its home structure, or held),
no customer may be held twice and no agent may hold two; every claim must return the best
eligible customer the model knows of.

Hypothesis runs state machines synchronously: each machine has its own event loop and Redis
client, and runs every engine call to completion on that loop.
"""

import asyncio
import os
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from redis.asyncio import Redis

from services.queue import (
    AssignmentQueue,
    Claimed,
    Empty,
    HeldByOther,
    NotHolder,
    NotInQueue,
    Placement,
    compute_placement,
)
from shared.infra.settings import Environment, Settings
from tests.conftest import emptied
from tests.queue.support import Src

T = TypeVar("T")

T0 = 1_700_000_000_000
LEASE = 30  # seconds
LEASE_MS = LEASE * 1000
LIMIT = 3  # attempts at which a customer is at the attempt limit
AGENTS = (1, 2)
SEGMENTS = (None, 4)
ZONES = ("UTC", "Europe/Oslo")
# When a closed zone opens again, after a claim that finds it closed (calling rules).
OPENS_IN_MS = 45_000

scores = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
delays = st.sampled_from([1, 1000, 5000, 30_000, 60_000])
# A supervisor's or a rebuild's place may carry a follow-up that is already due or passed.
place_delays = st.sampled_from([-60_000, -1, 0, 1, 5000, 60_000])


@dataclass(frozen=True)
class Facts:
    """What the database would know of one customer: enough to compute its place."""

    cid: int
    segment: int | None
    tz: str
    score: float | None
    stop_at_limit: bool
    attempts: int = 0

    def source(self, **changes: Any) -> Src:
        src = Src(
            customer_id=self.cid,
            segment_id=self.segment,
            time_zone=self.tz,
            over_attempt_limit=self.attempts >= LIMIT,
            stop_at_limit=self.stop_at_limit,
            sort_values=((self.attempts, "asc"), (self.score, "desc")),
            import_order=self.cid,
        )
        return replace(src, **changes)

    def order(self) -> tuple[bool, int, bool, float, int]:
        """The serving order of free customers, written independently of encode_rank."""
        missing = self.score is None
        return (
            self.attempts >= LIMIT,
            self.attempts,
            missing,
            0.0 if self.score is None else -float(self.score),
            self.cid,
        )


facts_strategy = st.builds(
    Facts,
    cid=st.just(0),
    segment=st.sampled_from(SEGMENTS),
    tz=st.sampled_from(ZONES),
    score=scores,
    stop_at_limit=st.booleans(),
)


@dataclass(frozen=True)
class Lease:
    agent: int
    token: str
    expiry: int


def _normalise(snapshot: dict[str, object]) -> dict[str, object]:
    """Sorted-set contents as (member, score) tuples, whatever the client's reply shape."""
    out: dict[str, object] = {}
    for key, value in snapshot.items():
        if isinstance(value, list) and value and not isinstance(value[0], str):
            out[key] = [(str(m), float(s)) for m, s in value]
        else:
            out[key] = value
    return out


_ZSETS = ("lease", "free:", "cool:", "sfu:", "pfu:")
_HASHES = ("home", "holder", "agent")
_SETS = ("limit:", "blocked:")


async def _read_all(redis: Redis, prefix: str) -> dict[str, object]:
    """Every key of the queue by its name's type (the db holds this machine's keys only)."""
    keys = [str(k) async for k in redis.scan_iter(count=10_000)]
    names = [k[len(prefix) :] for k in keys if k.startswith(prefix)]
    names = [n for n in names if n.startswith((*_ZSETS, *_HASHES, *_SETS))]
    async with redis.pipeline(transaction=False) as pipe:
        for name in names:
            if name.startswith(_ZSETS):
                pipe.zrange(prefix + name, 0, -1, withscores=True)
            elif name in _HASHES:
                pipe.hgetall(prefix + name)
            else:
                pipe.smembers(prefix + name)
        values = await pipe.execute()
    return {
        name: sorted(value) if isinstance(value, set) else value
        for name, value in zip(names, values, strict=True)
    }


def _hash(snapshot: dict[str, object], key: str) -> dict[str, str]:
    value = snapshot.get(key, {})
    assert isinstance(value, dict)
    return value


def _members(value: object) -> list[str]:
    """The members of a set (a sorted list of names) or a sorted set ((member, score) pairs)."""
    assert isinstance(value, list)
    return [m if isinstance(m, str) else m[0] for m in value]


class QueueMachine(RuleBasedStateMachine):
    # The Redis the machine runs on: one server, or a cluster (ClusterQueueMachine).
    redis_settings = Settings(
        env=Environment.testing,
        redis_url=os.environ.get("NEXTCALL_TEST_REDIS_URL", ""),
    )

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.redis = self.run(emptied(self.redis_settings))
        self.queue = AssignmentQueue(self.redis, 9)
        self.now = T0
        self.facts: dict[int, Facts] = {}
        self.homes: dict[int, Placement] = {}
        self.keys: dict[int, tuple[bool, int, bool, float, int]] = {}  # order of each home
        self.leases: dict[int, Lease] = {}
        self.past: list[tuple[int, int, str]] = []  # (customer, agent, token) ever handed out

    def run(self, call: Awaitable[T]) -> T:
        return self.loop.run_until_complete(call)

    def teardown(self) -> None:
        self.run(self.redis.aclose())
        self.loop.close()

    # ----------------------------------------------------------------------------- the model

    def set_home(self, facts: Facts, placement: Placement) -> None:
        self.facts[facts.cid] = facts
        self.homes[facts.cid] = placement
        self.keys[facts.cid] = facts.order()

    def place_from(self, facts: Facts, **changes: Any) -> Placement:
        return compute_placement(facts.source(**changes), now_ms=self.now)

    def held_by(self, agent: int) -> int | None:
        return next((c for c, lease in self.leases.items() if lease.agent == agent), None)

    def sweep(self) -> tuple[int, int]:
        expired = [c for c, lease in self.leases.items() if lease.expiry <= self.now]
        for cid in expired:
            del self.leases[cid]
        promoted = 0
        for cid, home in list(self.homes.items()):
            ended = home.due_ms is not None and home.due_ms <= self.now
            if home.kind == "cool" and cid not in self.leases and ended:
                self.homes[cid] = replace(home, kind="free", due_ms=None)
                promoted += 1
        return len(expired), promoted

    def take(self, cid: int, agent: int, token: str) -> None:
        self.leases[cid] = Lease(agent, token, self.now + LEASE_MS)
        self.past.append((cid, agent, token))

    def expected_snapshot(self) -> dict[str, object]:
        zsets: dict[str, list[tuple[str, float]]] = defaultdict(list)
        sets: dict[str, list[str]] = defaultdict(list)
        for cid, p in self.homes.items():
            if cid in self.leases:
                continue
            c, due = str(cid), float(p.due_ms or 0)
            if p.kind == "free":
                zsets[f"free:{p.segment}|{p.tz}"].append((p.rank, 0.0))
            elif p.kind == "cool":
                zsets[f"cool:{p.segment}|{p.tz}"].append((c, due))
            elif p.kind == "sfu":
                zsets[f"sfu:{p.segment}"].append((c, due))
            elif p.kind == "pfu":
                zsets[f"pfu:{p.owner}"].append((c, due))
            elif p.kind in ("limit", "blocked"):
                sets[f"{p.kind}:{p.segment}"].append(c)
        out: dict[str, object] = {}
        if self.homes:
            out["home"] = {str(c): p.encode() for c, p in self.homes.items()}
        if self.leases:
            out["lease"] = sorted(
                ((str(c), float(lease.expiry)) for c, lease in self.leases.items()),
                key=lambda m: (m[1], m[0]),
            )
            out["holder"] = {str(c): f"{x.agent}|{x.token}" for c, x in self.leases.items()}
            out["agent"] = {str(x.agent): str(c) for c, x in self.leases.items()}
        for key, members in zsets.items():
            out[key] = sorted(members, key=lambda m: (m[1], m[0]))
        for key, names in sets.items():
            out[key] = sorted(names)
        return out

    def snapshot(self) -> dict[str, object]:
        """The engine's own snapshot (what a reconcile compares)."""
        return _normalise(self.run(self.queue.snapshot()))

    def read(self) -> dict[str, object]:
        """The same content as snapshot(), read in two round trips: checked after every step."""
        return _normalise(self.run(_read_all(self.redis, self.queue.prefix)))

    # ------------------------------------------------------------------------------ set-up

    @initialize(customers=st.lists(facts_strategy, min_size=3, max_size=7))
    def place_customers(self, customers: list[Facts]) -> None:
        items = []
        for i, drawn in enumerate(customers, start=1):
            facts = replace(drawn, cid=i)
            placement = self.place_from(facts)
            self.set_home(facts, placement)
            items.append((i, placement))
        assert self.run(self.queue.place(items)) == len(items)

    # ----------------------------------------------------------------------- agents' steps

    @rule(
        agent=st.sampled_from(AGENTS),
        segment=st.sampled_from(["", "0", "4"]),
        open_zones=st.sampled_from([None, ("UTC",), ("Europe/Oslo",), ()]),
        personal_first=st.booleans(),
        hold=st.booleans(),
    )
    def claim(
        self,
        agent: int,
        segment: str,
        open_zones: Sequence[str] | None,
        personal_first: bool,
        hold: bool = False,
    ) -> None:
        # Calling rules: each closed zone opens OPENS_IN_MS from now; with `hold`, a due
        # follow-up of a closed zone is re-scored to that opening instead of served.
        openings = (
            {}
            if open_zones is None
            else {z: self.now + OPENS_IN_MS for z in ZONES if z not in open_zones}
        )
        hold = hold and open_zones is not None
        result = self.run(
            self.queue.claim(
                user_id=agent,
                lease_seconds=LEASE,
                segment=segment,
                personal_first=personal_first,
                open_time_zones=open_zones,
                openings=openings,
                hold_followups=hold,
                now=self.now,
            )
        )
        event("claim", result.source if isinstance(result, Claimed) else "empty")
        self.sweep()
        expiry = self.now + LEASE_MS

        current = self.held_by(agent)
        if current is not None:
            token = self.leases[current].token
            assert result == Claimed(current, "current", token, expiry)
            self.leases[current] = Lease(agent, token, expiry)
            return

        def seg_ok(p: Placement) -> bool:
            return segment in ("", p.segment)

        if hold:
            self.hold_followups(agent, seg_ok, openings, personal_first=personal_first)
        waiting = {c: p for c, p in self.homes.items() if c not in self.leases and seg_ok(p)}
        mine = {
            c: p
            for c, p in waiting.items()
            if personal_first and p.kind == "pfu" and p.owner == agent
        }
        shared = {c: p for c, p in waiting.items() if p.kind == "sfu"}
        free = {c: p for c, p in waiting.items() if p.kind == "free"}
        open_free = {c: p for c, p in free.items() if open_zones is None or p.tz in open_zones}

        for source, followups in (("personal_followup", mine), ("shared_followup", shared)):
            due = {
                c: p.due_ms
                for c, p in followups.items()
                if p.due_ms is not None and p.due_ms <= self.now
            }
            if due:
                earliest = min(d for d in due.values() if d is not None)
                assert isinstance(result, Claimed), result
                assert result.source == source
                assert due.get(result.customer_id) == earliest  # earliest first; ties either
                self.take(result.customer_id, agent, result.lease_token)
                return

        if open_free:
            assert isinstance(result, Claimed), result
            best = min(open_free, key=lambda c: self.keys[c])
            assert min(open_free, key=lambda c: open_free[c].rank) == best  # rank agrees
            assert result == Claimed(best, "free", result.lease_token, expiry), result
            self.take(best, agent, result.lease_token)
            return

        times = [x.expiry for x in self.leases.values()]
        for followups in (mine, shared, {c: p for c, p in waiting.items() if p.kind == "cool"}):
            times += [p.due_ms for p in followups.values() if p.due_ms is not None]
        times += [openings[p.tz] for p in free.values() if p.tz in openings]
        kinds = Counter(p.kind for p in waiting.values())
        assert result == Empty(
            held=len(self.leases),
            cooldown=kinds["cool"],
            outside_hours=len(free) - len(open_free),
            blocked=kinds["blocked"],
            at_attempt_limit=kinds["limit"],
            waiting_followups=len(shared) + len(mine),
            next_eligible_ms=min(times) if times else None,
        )

    def hold_followups(
        self,
        agent: int,
        seg_ok: Callable[[Placement], bool],
        openings: dict[str, int],
        *,
        personal_first: bool,
    ) -> None:
        """What the claim script does to due follow-ups of closed zones before it chooses:
        the agent's personal ones in due order up to the first it may serve, then each
        segment's shared ones while the earliest is in a closed zone. The sets are scored by
        due time, ties by member: the order Redis reads them in."""

        def due(kind: str, *, owner: int | None = None) -> list[int]:
            found = [
                c
                for c, p in self.homes.items()
                if c not in self.leases
                and p.kind == kind
                and (owner is None or p.owner == owner)
                and p.due_ms is not None
                and p.due_ms <= self.now
            ]
            return sorted(found, key=lambda c: (self.homes[c].due_ms or 0, str(c)))

        def held(cid: int) -> bool:
            home = self.homes[cid]
            if home.tz not in openings:
                return False
            self.homes[cid] = replace(home, due_ms=openings[home.tz])
            return True

        if personal_first:
            for cid in due("pfu", owner=agent):
                if seg_ok(self.homes[cid]) and not held(cid):
                    return
        segments = {p.segment for c, p in self.homes.items() if p.kind == "sfu"}
        for seg in segments:
            for cid in [c for c in due("sfu") if self.homes[c].segment == seg]:
                if not seg_ok(self.homes[cid]) or not held(cid):
                    break

    @rule(agent=st.sampled_from(AGENTS), open_zone=st.sampled_from(ZONES))
    def next_in_calling_hours(self, agent: int, open_zone: str) -> None:
        """The ask under calling rules: one zone open, follow-ups of the other held."""
        self.claim(agent, "", (open_zone,), True, hold=True)

    @rule(agent=st.sampled_from(AGENTS))
    def next_customer(self, agent: int) -> None:
        """The usual ask: any segment, inside contact hours everywhere, personal first."""
        self.claim(agent, "", None, True)

    @rule(agent=st.sampled_from(AGENTS), cid=st.integers(1, 7))
    def select(self, agent: int, cid: int) -> None:
        try:
            result: Claimed | Exception = self.run(
                self.queue.select(cid, user_id=agent, lease_seconds=LEASE, now=self.now)
            )
        except (NotInQueue, HeldByOther) as e:
            result = e
        self.sweep()
        lease = self.leases.get(cid)
        previous = self.held_by(agent)
        if cid not in self.homes:
            outcome = "missing"
        elif lease is not None:
            outcome = "held by other" if lease.agent != agent else "own again"
        else:
            outcome = "new" if previous is None else "instead of another"
        event("select", outcome)
        if cid not in self.homes:
            assert isinstance(result, NotInQueue)
            return
        if lease is not None and lease.agent != agent:
            assert isinstance(result, HeldByOther)
            assert result.holder_user_id == lease.agent
            return
        assert isinstance(result, Claimed), result
        expiry = self.now + LEASE_MS
        if lease is not None:
            assert result == Claimed(cid, "selected", lease.token, expiry)
            self.leases[cid] = replace(lease, expiry=expiry)
            return
        assert result == Claimed(cid, "selected", result.lease_token, expiry)
        if previous is not None:
            del self.leases[previous]
        self.take(cid, agent, result.lease_token)

    @rule(agent=st.sampled_from(AGENTS), cid=st.integers(1, 7))
    def release(self, agent: int, cid: int) -> None:
        held = self.held_by(agent)
        if held is not None:
            token = self.leases[held].token
            assert self.run(self.queue.release(held, user_id=agent, lease_token=token)) == agent
            del self.leases[held]
            return
        # Not the holder: refused, naming the holder if there is one.
        with pytest.raises(NotHolder) as raised:
            self.run(self.queue.release(cid, user_id=agent, lease_token="not-mine"))
        lease = self.leases.get(cid)
        assert raised.value.holder_user_id == (lease.agent if lease else None)

    @rule(cid=st.integers(1, 7))
    def force_release(self, cid: int) -> None:
        lease = self.leases.pop(cid, None)
        if lease is None:
            with pytest.raises(NotHolder):
                self.run(self.queue.release(cid, user_id=99, force=True))
        else:
            assert self.run(self.queue.release(cid, user_id=99, force=True)) == lease.agent

    def _holder_writes(self, data: st.DataObject) -> tuple[int, Lease] | None:
        """A holder renews before writing (rule 18); None when its lease has run out."""
        cid = data.draw(st.sampled_from(sorted(self.leases)), label="held customer")
        lease = self.leases[cid]
        renew = self.queue.renew(
            cid, user_id=lease.agent, lease_token=lease.token, lease_seconds=LEASE, now=self.now
        )
        if lease.expiry <= self.now:
            with pytest.raises(NotHolder) as raised:
                self.run(renew)
            assert raised.value.holder_user_id == lease.agent
            return None
        assert self.run(renew) == self.now + LEASE_MS
        lease = self.leases[cid] = replace(lease, expiry=self.now + LEASE_MS)
        return cid, lease

    def _settle(self, cid: int, lease: Lease, facts: Facts, placement: Placement) -> None:
        self.run(
            self.queue.settle(
                cid, user_id=lease.agent, lease_token=lease.token, placement=placement
            )
        )
        del self.leases[cid]
        self.set_home(facts, placement)

    @precondition(lambda self: self.leases)
    @rule(data=st.data(), cooldown=st.sampled_from([0, 5000, 45_000]))
    def attempt(self, data: st.DataObject, cooldown: int) -> None:
        """No answer or call back later without a time: attempts + 1, maybe a cooldown."""
        writer = self._holder_writes(data)
        if writer is None:
            return
        cid, lease = writer
        facts = replace(self.facts[cid], attempts=self.facts[cid].attempts + 1)
        until = self.now + cooldown if cooldown else None
        placement = self.place_from(facts, cooldown_until_ms=until)
        if facts.attempts >= LIMIT and facts.stop_at_limit:
            assert placement.kind == "limit"
        else:
            assert placement.kind == ("cool" if cooldown else "free")
        self._settle(cid, lease, facts, placement)

    @precondition(lambda self: self.leases)
    @rule(
        data=st.data(),
        outcome=st.sampled_from(["park", "final", "personal", "shared"]),
        delay=delays,
        owner=st.sampled_from(AGENTS),
    )
    def outcome(self, data: st.DataObject, outcome: str, delay: int, owner: int) -> None:
        writer = self._holder_writes(data)
        if writer is None:
            return
        cid, lease = writer
        facts = self.facts[cid]
        due = self.now + delay
        if outcome == "park":
            placement = self.place_from(facts, state_kind="progressive")
        elif outcome == "final":
            placement = self.place_from(facts, state_kind="final")
        elif outcome == "personal":
            placement = self.place_from(
                facts,
                state_kind="progressive",
                followup_kind="personal",
                followup_due_ms=due,
                followup_owner=owner,
            )
        else:
            placement = self.place_from(facts, followup_kind="shared", followup_due_ms=due)
        self._settle(cid, lease, facts, placement)

    def stale(self, *, held: bool) -> list[tuple[int, int, str]]:
        """Leases handed out earlier and lost since, on customers still here."""
        return [
            (cid, agent, token)
            for cid, agent, token in self.past
            if cid in self.homes
            and (cid in self.leases) == held
            and (not held or self.leases[cid].token != token)
        ]

    @precondition(lambda self: self.stale(held=False))
    @rule(data=st.data(), delay=delays)
    def stale_settle(self, data: st.DataObject, delay: int) -> None:
        """A writer whose lease is gone settles anyway: nobody holds it, so it moves home."""
        self._stale_settle(data.draw(st.sampled_from(self.stale(held=False))), delay)

    @precondition(lambda self: self.stale(held=True))
    @rule(data=st.data(), delay=delays)
    def stale_settle_while_held(self, data: st.DataObject, delay: int) -> None:
        """Someone holds it now (maybe the same agent anew): only the home may change."""
        self._stale_settle(data.draw(st.sampled_from(self.stale(held=True))), delay)

    def _stale_settle(self, stale: tuple[int, int, str], delay: int) -> None:
        cid, agent, token = stale
        placement = self.place_from(
            self.facts[cid], followup_kind="shared", followup_due_ms=self.now + delay
        )
        self.run(self.queue.settle(cid, user_id=agent, lease_token=token, placement=placement))
        self.set_home(self.facts[cid], placement)

    @precondition(lambda self: self.leases)
    @rule(data=st.data())
    def heartbeat(self, data: st.DataObject) -> None:
        self._holder_writes(data)

    # ------------------------------------------------------------ supervisors and the clock

    @rule(
        cid=st.integers(1, 7),
        facts=facts_strategy,
        kind=st.sampled_from(["free", "cool", "blocked", "limit", "park", "shared", "personal"]),
        delay=place_delays,
        owner=st.sampled_from(AGENTS),
    )
    def place(self, cid: int, facts: Facts, kind: str, delay: int, owner: int) -> None:
        """The database changed the customer (edit, move in, block...): place it anew."""
        facts = replace(facts, cid=cid, attempts=LIMIT if kind == "limit" else 0)
        if kind == "limit":
            facts = replace(facts, stop_at_limit=True)
        options: dict[str, dict[str, Any]] = {
            "free": {},
            "limit": {},
            "cool": {"cooldown_until_ms": self.now + delay},
            "blocked": {"blocked": True},
            "park": {"state_kind": "progressive"},
            "shared": {"followup_kind": "shared", "followup_due_ms": self.now + delay},
            "personal": {
                "state_kind": "progressive",
                "followup_kind": "personal",
                "followup_due_ms": self.now + delay,
                "followup_owner": owner,
            },
        }
        changes = options[kind]
        placement = self.place_from(facts, **changes)
        assert self.run(self.queue.place([(cid, placement)])) == 1
        self.set_home(facts, placement)

    @rule(cid=st.integers(1, 7))
    def remove(self, cid: int) -> None:
        self.run(self.queue.remove([cid]))
        self.homes.pop(cid, None)
        self.leases.pop(cid, None)

    @rule(ms=st.sampled_from([1, 999, 5000, LEASE_MS - 1, LEASE_MS, 90_000]))
    def advance(self, ms: int) -> None:
        self.now += ms

    @rule(extra=st.sampled_from([0, 1, 20_000]))
    def expire(self, extra: int) -> None:
        """Time runs past every lease; the worker's tick returns them all."""
        if self.leases:
            self.now = max(self.now, *(x.expiry for x in self.leases.values())) + extra
        result = self.run(self.queue.sweep(now=self.now))
        assert result == self.sweep()
        assert not self.leases

    @precondition(lambda self: self.leases)  # the case that matters: leases survive it
    @rule()
    def rebuild(self) -> None:
        """Redis lost or distrusted: drop the queue, keep the leases, place every home again."""
        before = self.snapshot()
        assert before == self.expected_snapshot()
        self.run(self.queue.clear(keep_leases=True))
        self.run(self.queue.place(list(self.homes.items())))
        assert self.snapshot() == before

    # ---------------------------------------------------------------------------- invariants

    @invariant()
    def consistent(self) -> None:
        """One read of every key per step, checked three ways."""
        snap = self.read()
        one_holder_per_customer_and_one_customer_per_agent(snap)
        every_customer_in_exactly_one_place(snap)
        assert snap == self.expected_snapshot()


def one_holder_per_customer_and_one_customer_per_agent(snap: dict[str, object]) -> None:
    holder, agent = _hash(snap, "holder"), _hash(snap, "agent")
    assert set(_members(snap.get("lease", []))) == set(holder)
    agents = [value.split("|")[0] for value in holder.values()]
    assert len(agents) == len(set(agents)), "an agent holds two customers"
    assert agent == {value.split("|")[0]: cid for cid, value in holder.items()}


def every_customer_in_exactly_one_place(snap: dict[str, object]) -> None:
    """In its home structure, or held; parked ones only when held; removed ones nowhere."""
    places: Counter[int] = Counter()
    for key, value in snap.items():
        if key.startswith("free:"):
            places.update(int(rank[-16:], 16) for rank in _members(value))
        elif key.startswith(("cool:", "sfu:", "pfu:", "limit:", "blocked:")) or key == "lease":
            places.update(int(m) for m in _members(value))
    homes = _hash(snap, "home")
    held = {int(m) for m in _members(snap.get("lease", []))}
    for cid in set(places) | {int(c) for c in homes}:
        home = homes.get(str(cid))
        if home is None:
            expected = 0
        elif home.startswith("park|"):
            expected = 1 if cid in held else 0
        else:
            expected = 1
        assert places[cid] == expected, (cid, home, places[cid])


class ClusterQueueMachine(QueueMachine):
    redis_settings = Settings(
        env=Environment.testing,
        redis_url=os.environ.get("NEXTCALL_TEST_REDIS_CLUSTER_URL", ""),
        jobs_redis_url=os.environ.get("NEXTCALL_TEST_REDIS_URL", ""),
    )


# Examples per run: fewer on the cluster, whose every round trip costs more and whose
# single-slot behaviour the engine's suite already runs there case by case.
@pytest.mark.parametrize(
    ("machine", "examples"),
    [(QueueMachine, 150), (ClusterQueueMachine, 25)],
    ids=["redis", "cluster"],
)
def test_queue_keeps_its_invariants(machine: type[QueueMachine], examples: int) -> None:
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
