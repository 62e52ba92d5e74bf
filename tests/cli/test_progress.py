"""Long commands draw a progress bar on a terminal: an import from a file, a rebuild."""

import re
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from services.queue import AssignmentQueue
from shared.infra.settings import Settings
from shared.models import Permission
from tests.cli.run import environment, on_a_terminal
from tests.factories import create_assignment, create_flow, create_tenant, create_user

ROWS = 3000


def _csv(path: Path) -> Path:
    lines = ["external_id,first_name,email"]
    lines += [f"c{i},Customer {i},c{i}@example.no" for i in range(ROWS - 1)]
    lines.append("bad,Bad,not-an-address")
    path.write_text("\n".join(lines) + "\n")
    return path


async def test_an_import_from_a_file_then_a_rebuild_show_their_progress(
    settings: Settings, session: AsyncSession, redis: Redis, tmp_path: Path
) -> None:
    tenant = await create_tenant(session)
    await create_user(session, tenant, name="Admin", permissions=[Permission.administrator.value])
    assignment = await create_assignment(session, tenant, await create_flow(session, tenant))
    env = environment(
        NEXTCALL_DATABASE_URL=settings.database_url, NEXTCALL_REDIS_URL=settings.redis_url
    )
    file = _csv(tmp_path / "customers.csv")

    code, out, terminal = on_a_terminal(
        "import", "--assignment", str(assignment.id), str(file), env=env, cwd=tmp_path
    )

    assert code == 0, terminal
    assert re.fullmatch(rf"import \d+: {ROWS} rows, {ROWS - 1} accepted, 1 rejected\n", out)
    assert re.search(rf"import \d+: 100%.*{ROWS / 1000:.2f}k/{ROWS / 1000:.2f}k", terminal)
    assert f"line {ROWS + 1}: " in terminal  # the rejected row, with its reason
    assert (await AssignmentQueue(redis, assignment.id).depth())["free"] == ROWS - 1

    await redis.flushdb()
    code, out, terminal = on_a_terminal(
        "rebuild", "--assignment", str(assignment.id), env=env, cwd=tmp_path
    )

    assert code == 0, terminal
    assert out.startswith(f"assignment {assignment.id}: {ROWS - 1} customers placed in ")
    assert re.search(rf"assignment {assignment.id}: 100%", terminal), terminal
    assert (await AssignmentQueue(redis, assignment.id).depth())["free"] == ROWS - 1
