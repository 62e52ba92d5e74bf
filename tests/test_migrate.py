"""Replicas that start together migrate once: each takes a PostgreSQL advisory lock first."""

import subprocess
import sys
import time
from collections.abc import Iterator

import psycopg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from shared.infra.migrate import MIGRATION_LOCK, alembic_config
from shared.infra.settings import Settings
from tests.cli.run import ROOT, environment

MIGRATE = "from shared.infra.migrate import upgrade; from shared.infra.settings import Settings; "
MIGRATE += "upgrade(Settings())"
HEAD = ScriptDirectory.from_config(alembic_config(Settings(_env_file=None))).get_current_head()


@pytest.fixture
def empty_database(settings: Settings) -> Iterator[str]:
    """A database of its own, without any table: what a first deployment meets."""
    url = make_url(settings.sync_database_url())
    admin = psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    )
    name = "nextcall_migrate_race"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_two_processes_migrating_an_empty_database_at_once(empty_database: str) -> None:
    url = make_url(empty_database)
    env = environment(NEXTCALL_DATABASE_URL=empty_database)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as holder:
        # Held here first: both processes must wait for it, neither may touch the schema.
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", MIGRATE],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        deadline = time.monotonic() + 60
        while _waiting_for_the_lock(holder) < 2:
            assert time.monotonic() < deadline, [p.communicate() for p in processes]
            time.sleep(0.05)
        tables = holder.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)
        holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        results = [p.communicate(timeout=120) for p in processes]

        assert [p.returncode for p in processes] == [0, 0], results
        versions = holder.execute("SELECT version_num FROM alembic_version").fetchall()
        assert versions == [(HEAD,)]


def _waiting_for_the_lock(connection: psycopg.Connection[tuple[object, ...]]) -> int:
    found = connection.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    ).fetchone()
    return int(str(found[0])) if found else 0
