"""The benchmark's data: a tenant, the seed flow, assignments of N customers, agents.

Customers and memberships are inserted in bulk by PostgreSQL itself (generate_series), then
placed in Redis exactly as the project places them (shared.membership.placement.load_queue_facts and
AssignmentQueue.place_sources, as tests/factories.place_all does).
"""

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from shared.demo import SEED_FLOW
from shared.flows import FlowSpec
from shared.infra.tokens import hash_token, new_token
from shared.membership.placement import load_queue_facts
from shared.models import ApiToken, Assignment, Flow, Permission, Tenant, User

# The seed flow: a closed loop's second request is the attempt *no answer* (rule 19: attempts
# + 1, the customer stays free), which keeps every customer servable, as the peer's cycle does.
BENCH_FLOW: dict[str, list[dict[str, Any]]] = {
    "states": SEED_FLOW["states"],
    "outcomes": SEED_FLOW["outcomes"],
}

# The redis-only baseline claims from a copy of the main queue under this id offset: an
# assignment id that never exists in the database, so the copy shares no key with ours.
REDIS_ONLY_OFFSET = 1_000_000_000
LEASE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class Agent:
    user_id: int
    token: str


@dataclass(frozen=True, slots=True)
class Placed:
    assignment_id: int
    customers: int
    insert_s: float  # PostgreSQL: customers and memberships
    place_s: float  # reading the facts back and placing them in Redis (one queue)


@dataclass
class World:
    tenant_id: int
    flow_id: int
    agents: list[Agent]
    setup: Agent  # a user with assignment setup: imports


async def create_world(sessionmaker: async_sessionmaker[AsyncSession], agents: int) -> World:
    async with sessionmaker() as session:
        tenant = Tenant(name="Bench", data_controller="Bench AS", processing_purpose="Benchmark")
        session.add(tenant)
        await session.flush()
        flow = Flow(
            tenant_id=tenant.id,
            name="Sales",
            states=BENCH_FLOW["states"],
            outcomes=BENCH_FLOW["outcomes"],
        )
        session.add(flow)
        users = [
            User(
                tenant_id=tenant.id,
                name=f"Bench agent {i}",
                permissions=[Permission.customer_handling.value],
            )
            for i in range(agents)
        ]
        setup = User(
            tenant_id=tenant.id, name="Bench setup", permissions=[Permission.assignment_setup.value]
        )
        session.add_all([*users, setup])
        await session.flush()
        out: list[Agent] = []
        for user in [*users, setup]:
            token = new_token()
            session.add(
                ApiToken(tenant_id=tenant.id, user_id=user.id, token_hash=hash_token(token))
            )
            out.append(Agent(user.id, token))
        await session.commit()
        return World(tenant.id, flow.id, out[:-1], out[-1])


async def create_assignment(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, name: str
) -> int:
    async with sessionmaker() as session:
        assignment = Assignment(
            tenant_id=world.tenant_id,
            flow_id=world.flow_id,
            name=name,
            lease_seconds=LEASE_SECONDS,
            cooldown_seconds=0,
        )
        session.add(assignment)
        await session.commit()
        return assignment.id


async def insert_customers(
    engine: AsyncEngine,
    tenant_id: int,
    assignment_id: int,
    n: int,
    *,
    due_from: datetime | None = None,
    due_within_s: float = 0.0,
    tag: str = "a",
) -> None:
    """N customers with a membership each, in two INSERT ... SELECT statements.

    Free memberships, or with `due_from`: shared follow-ups in the progressive state
    `interested`, due evenly spread over `due_within_s` seconds from `due_from`. External
    ids are `<tag><assignment>-<n>`: a second batch into one assignment needs another tag.
    """
    async with engine.begin() as conn:
        before = (await conn.execute(text("SELECT coalesce(max(id), 0) FROM customers"))).scalar()
        # search_name by hand: Core writers keep it as shared.customers.search.search_name would.
        await conn.execute(
            text(
                """
                INSERT INTO customers (tenant_id, external_id, first_name, last_name, phone_1,
                    email, language, time_zone, custom, search_name, created_at, updated_at)
                SELECT :t, :tag || :a || '-' || g, 'First' || g, 'Last' || g,
                    '+479' || lpad(g::text, 7, '0'), 'c' || g || '@example.com', 'nb',
                    'Europe/Oslo', '{"city": "Oslo", "plan": "basic"}'::json,
                    'first' || g || ' last' || g, now(), now()
                FROM generate_series(1, :n) AS g
                """
            ),
            {"t": tenant_id, "a": assignment_id, "n": n, "tag": tag},
        )
        if due_from is None:
            await conn.execute(
                text(
                    """
                    INSERT INTO memberships (tenant_id, customer_id, assignment_id, state,
                        state_set_by, attempts, version, created_at)
                    SELECT tenant_id, id, :a, 'free', 'import', 0, 1, now()
                    FROM customers WHERE id > :before ORDER BY id
                    """
                ),
                {"a": assignment_id, "before": before},
            )
        else:
            await conn.execute(
                text(
                    """
                    INSERT INTO memberships (tenant_id, customer_id, assignment_id, state,
                        state_set_by, attempts, version, created_at, followup_at,
                        followup_kind)
                    SELECT tenant_id, id, :a, 'interested', 'user', 1, 1, now(),
                        :due + (row_number() OVER (ORDER BY id) - 1) * :step
                            * interval '1 second',
                        'shared'
                    FROM customers WHERE id > :before ORDER BY id
                    """
                ),
                {
                    "a": assignment_id,
                    "before": before,
                    "due": due_from,
                    "step": due_within_s / max(1, n),
                },
            )
    await analyze(engine, "customers", "memberships")


async def analyze(engine: AsyncEngine, *tables: str) -> None:
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in tables:
            await conn.execute(text(f"VACUUM ANALYZE {table}"))


async def place(
    sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, assignment_id: int
) -> float:
    """Place an assignment's customers in its queue, as the project does; returns seconds.

    The time covers reading the facts from PostgreSQL, computing each place and running the
    place script.
    """
    queue = AssignmentQueue(redis, assignment_id)
    await queue.clear(keep_leases=False)
    started = time.perf_counter()
    async with sessionmaker() as session:
        assignment = await session.get(Assignment, assignment_id)
        assert assignment is not None
        flow = await session.get(Flow, assignment.flow_id)
        assert flow is not None
        spec = FlowSpec.model_validate({"states": flow.states, "outcomes": flow.outcomes})
        async for batch in load_queue_facts(session, assignment, spec):
            await queue.place_sources(batch)
    return time.perf_counter() - started


async def copy_queue(redis: Redis, source_id: int, target_id: int) -> None:
    """Copy every key of one queue to another id, inside Redis (COPY), replacing the target."""
    await AssignmentQueue(redis, source_id).copy_to(AssignmentQueue(redis, target_id))


async def create_pg_copy(engine: AsyncEngine, assignment_id: int) -> None:
    """The PostgreSQL baseline's table: the memberships of one assignment plus a lease.

    A bench-only copy, so the project's schema stays untouched; it gets the index a
    PostgreSQL queue would have: free rows of an assignment in claim order.
    """
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS bench_memberships"))
        await conn.execute(
            text(
                "CREATE TABLE bench_memberships AS SELECT * FROM memberships "
                "WHERE assignment_id = :a"
            ),
            {"a": assignment_id},
        )
        await conn.execute(
            text(
                "ALTER TABLE bench_memberships ADD PRIMARY KEY (id), "
                "ADD COLUMN leased_until timestamptz, ADD COLUMN leased_by bigint, "
                "ADD COLUMN lease_token text"
            )
        )
        await conn.execute(
            text(
                "CREATE INDEX bench_memberships_free "
                "ON bench_memberships (assignment_id, attempts, id) WHERE state = 'free'"
            )
        )
        await conn.execute(
            text(
                "CREATE UNIQUE INDEX bench_memberships_customer ON bench_memberships (customer_id)"
            )
        )
    await analyze(engine, "bench_memberships")


async def reset_pg_copy(engine: AsyncEngine) -> None:
    """Free every lease (between runs), and vacuum what the last run left behind."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE bench_memberships SET leased_until = NULL, leased_by = NULL, "
                "lease_token = NULL WHERE leased_until IS NOT NULL"
            )
        )
    await analyze(engine, "bench_memberships", "memberships")
