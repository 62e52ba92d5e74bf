"""Run Alembic migrations programmatically (CLI, tests, embedded start)."""

from importlib import resources

from alembic import command
from alembic.config import Config

from shared.infra.settings import Settings


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("shared") / "migrations"))
    config.set_main_option("sqlalchemy.url", settings.sync_database_url())
    return config


def upgrade(settings: Settings) -> None:
    if settings.is_embedded():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings), "head")
