"""Times the card read /next takes, with the bars it carries (decision 033), for a tenant
whose register holds 0, 10,000 and 1,000,000 numbers: the check must not grow with it.

    .venv/bin/python -m scripts.perf.card_read_bars [--reads 5000]

Uses a throw-away PostgreSQL (bench.infra; NEXTCALL_BENCH_DATABASE_URL reuses a running one).
Each tenant has one customer with three numbers, none in its register; the card is read on
one asyncpg connection, as the API's direct pool reads it, rounds interleaved.
"""

import argparse
import asyncio
import statistics
import sys
import time

import asyncpg
from sqlalchemy import text

from bench import infra
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.directdb import DirectStatement
from shared.infra.migrate import upgrade
from shared.infra.settings import Settings
from shared.membership.statements import CARD_QUERY
from shared.models import Assignment, Customer, Flow, Membership, Register, Tenant

SIZES = (0, 10_000, 1_000_000)


async def seed(settings: Settings) -> dict[int, tuple[int, int]]:
    """Per register size: (tenant id, customer id)."""
    engine = create_engine(settings, process_name="perf")
    out: dict[int, tuple[int, int]] = {}
    async with create_sessionmaker(engine)() as session:
        for size in SIZES:
            tenant = Tenant(name=f"register of {size}")
            session.add(tenant)
            await session.flush()
            flow = Flow(tenant_id=tenant.id, name="f", states=[], outcomes=[])
            session.add(flow)
            await session.flush()
            assignment = Assignment(tenant_id=tenant.id, name="a", flow_id=flow.id)
            customer = Customer(
                tenant_id=tenant.id,
                external_id="c",
                phone_1="+4791234567",
                phone_2="+4791234568",
                phone_3="+4791234569",
            )
            register = Register(tenant_id=tenant.id, name="r", numbers=size)
            session.add_all([assignment, customer, register])
            await session.flush()
            session.add(
                Membership(
                    tenant_id=tenant.id,
                    customer_id=customer.id,
                    assignment_id=assignment.id,
                    state="free",
                )
            )
            await session.execute(
                text(
                    "INSERT INTO register_numbers (register_id, phone, tenant_id) "
                    "SELECT :r, '+474' || lpad(g::text, 7, '0'), :t FROM generate_series(1, :n) g"
                ),
                {"r": register.id, "t": tenant.id, "n": size},
            )
            out[size] = (tenant.id, customer.id)
        await session.commit()
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE"))
    await engine.dispose()
    return out


async def run(database_url: str, reads: int) -> None:
    settings = Settings(database_url=database_url)
    upgrade(settings)
    targets = await seed(settings)
    with_bars = DirectStatement(CARD_QUERY)
    # The card read as it was before the bars: the same columns without the mask.
    plain = DirectStatement(CARD_QUERY.with_only_columns(*list(CARD_QUERY.selected_columns)[:-1]))
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    cases = [("no bars", plain, targets[SIZES[-1]])] + [
        (f"register {size:,}", with_bars, targets[size]) for size in SIZES
    ]
    prepared = [await conn.prepare(statement.sql) for _, statement, _ in cases]
    times: list[list[float]] = [[] for _ in cases]
    for _ in range(reads):
        for i, (_, statement, (tenant, customer)) in enumerate(cases):
            args = statement.args({"customer_id": customer, "tenant_id": tenant})
            started = time.perf_counter()
            row = await prepared[i].fetchrow(*args)
            times[i].append((time.perf_counter() - started) * 1e6)
            assert row is not None, row
    await conn.close()
    for (name, _, _), got in zip(cases, times, strict=True):
        got.sort()
        print(
            f"{name:>18}: card read median {statistics.median(got):6.0f} µs, "
            f"p90 {got[int(len(got) * 0.9)]:6.0f} µs"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--reads", type=int, default=5000)
    args = parser.parse_args()
    infra.install_signal_handlers()
    with infra.start(lambda m: print(m, file=sys.stderr)) as servers:
        asyncio.run(run(servers.database_url, args.reads))


if __name__ == "__main__":
    main()
