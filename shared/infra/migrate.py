"""Run Alembic migrations programmatically (CLI, tests, embedded start)."""

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from shared.infra.settings import Settings

# The PostgreSQL advisory lock every migrating process takes first: replicas that start
# together migrate one after the other, and the later ones find the schema at head. Any
# 64-bit number no other lock of the database uses ("nextcall" in ASCII).
MIGRATION_LOCK = 0x6E65787463616C6C


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("shared") / "migrations"))
    config.set_main_option("sqlalchemy.url", settings.sync_database_url())
    return config


def upgrade(settings: Settings) -> None:
    if settings.is_embedded():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    with migration_lock(settings):
        command.upgrade(alembic_config(settings), "head")


@contextmanager
def migration_lock(settings: Settings) -> Iterator[None]:
    """Hold the migration lock for the block (PostgreSQL; SQLite serves one machine, and
    `nextcall up` already holds its data directory's lock)."""
    if settings.is_embedded() or not settings.sync_database_url().startswith("postgresql"):
        yield
        return
    engine = create_engine(settings.sync_database_url(), poolclass=NullPool)
    try:
        # A session lock on a connection of its own: Alembic's transactions run on another
        # connection, and a killed process's lock ends with its connection.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
    finally:
        engine.dispose()
