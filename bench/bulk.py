"""import and rebuild: a CSV of N customers through the real import path, then the real
rebuild of the same assignment's Redis queue from PostgreSQL.

import: `POST /v1/assignments/{id}/imports` with the CSV as the body, on the real API. A file
over the inline limit is stored and answered 202; its worker job
(`services.worker.jobs.imports.import_customers`) then runs here, in this process, as the
worker's work-horse would. Timed from the upload until every row is in PostgreSQL and placed
in Redis (both counted, not assumed). rebuild: `rebuild_queue`, the job behind
`nextcall rebuild`, on the imported assignment.
"""

import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench import seed
from bench.context import Ctx, Fleet
from bench.figures import spread
from services.queue import AssignmentQueue
from services.worker.jobs.imports import import_customers
from services.worker.jobs.rebuild import rebuild_queue
from shared.models import Membership

UPLOAD_TIMEOUT_S = 600.0


def write_csv(path: Path, rows: int, tag: str) -> int:
    """A lean CSV (a 1M-row file stays under the API's 64 MiB body limit); its size."""
    with path.open("w") as f:
        f.write("external_id,first_name,last_name,phone_1\n")
        for i in range(1, rows + 1):
            f.write(f"{tag}-{i},F{i},L{i},+479{i % 10_000_000:07d}\n")
    return path.stat().st_size


async def placed(ctx: Ctx, assignment_id: int) -> int:
    depth = await AssignmentQueue(ctx.redis, assignment_id).depth()
    return sum(depth.values())


async def memberships(ctx: Ctx, assignment_id: int) -> int:
    async with ctx.sessionmaker() as session:
        query = select(func.count()).where(Membership.assignment_id == assignment_id)
        return int(await session.scalar(query) or 0)


async def import_once(ctx: Ctx, port: int, rows: int, repeat: int) -> dict[str, Any]:
    assignment = await seed.create_assignment(ctx.sessionmaker, ctx.world, f"Import {repeat}")
    csv = ctx.raw_dir / f"import-{rows}.csv"
    size = write_csv(csv, rows, f"i{assignment}")
    headers = {"Authorization": f"Bearer {ctx.world.setup.token}", "Content-Type": "text/csv"}
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=UPLOAD_TIMEOUT_S) as client:
        response = await client.post(
            f"http://127.0.0.1:{port}/v1/assignments/{assignment}/imports",
            content=csv.read_bytes(),
            headers=headers,
        )
    answered = time.perf_counter() - started
    if response.status_code not in (200, 202):
        raise RuntimeError(f"import refused: {response.status_code} {response.text[:300]}")
    body = response.json()
    if response.status_code == 202:
        await import_customers(body["id"], sessionmaker=ctx.sessionmaker, redis=ctx.redis)
    total = time.perf_counter() - started
    csv.unlink()
    in_db, in_redis = await memberships(ctx, assignment), await placed(ctx, assignment)
    ctx.log(
        f"import #{repeat + 1}: {rows:,} rows ({size / 1e6:.0f} MB) in {total:.1f} s "
        f"(answered {response.status_code} after {answered:.1f} s); "
        f"{in_db:,} in PostgreSQL, {in_redis:,} placed"
    )
    return {
        "assignment_id": assignment,
        "seconds": round(total, 2),
        "answer_s": round(answered, 2),
        "status": response.status_code,
        "bytes": size,
        "in_database": in_db,
        "placed": in_redis,
        "complete": in_db == rows and in_redis == rows,
    }


async def bulk(ctx: Ctx, parts: set[str]) -> dict[str, Any]:
    a = ctx.args
    out: dict[str, Any] = {}
    imported: int | None = None
    if "import" in parts:
        runs = []
        async with Fleet(ctx, ["nextcall"]):
            port = ctx.running["nextcall"].port
            for repeat in range(a.long_repeats):
                runs.append(await import_once(ctx, port, a.import_rows, repeat))
        imported = runs[-1]["assignment_id"]
        out["import"] = {
            "rows": a.import_rows,
            "seconds": spread([r["seconds"] for r in runs]),
            "complete": all(r["complete"] for r in runs),
            "runs": runs,
        }
    if "rebuild" in parts:
        if imported is None:
            imported = await seed.create_assignment(ctx.sessionmaker, ctx.world, "Rebuild")
            await seed.insert_customers(ctx.engine, ctx.world.tenant_id, imported, a.import_rows)
        runs = []
        for repeat in range(a.long_repeats):
            started = time.perf_counter()
            result = await rebuild_queue(imported, sessionmaker=ctx.sessionmaker, redis=ctx.redis)
            seconds = time.perf_counter() - started
            count = result.placed if result else 0
            ctx.log(f"rebuild #{repeat + 1}: {count:,} memberships placed in {seconds:.1f} s")
            runs.append({"seconds": round(seconds, 2), "placed": count})
        out["rebuild"] = {
            "memberships": await memberships(ctx, imported),
            "seconds": spread([r["seconds"] for r in runs]),
            "runs": runs,
        }
    return out
