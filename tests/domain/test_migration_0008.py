"""Migration 0008 on SQLite, the embedded default: new columns with their defaults, and
search names folded anew ("Bjoerg Nygaard" now folds like "Bjørg Nygård")."""

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from shared.customers.search import search_name
from shared.infra.migrate import alembic_config
from shared.infra.settings import Settings


def test_0008_adds_the_columns_and_refolds_names_on_sqlite(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    config = alembic_config(settings)
    command.upgrade(config, "0005")
    engine = create_engine(settings.sync_database_url())
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tenants (id, name, data_controller, processing_purpose, created_at)"
                " VALUES (1, 'Acme', '', '', '2026-12-06')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO customers (id, tenant_id, external_id, first_name, last_name,"
                " search_name, custom, created_at, updated_at) VALUES (1, 1, 'c1', 'Bjoerg',"
                " 'Nygaard', 'bjoerg nygaard', '{}', '2026-12-06', '2026-12-06')"
            )
        )
    command.upgrade(config, "0008")
    with engine.connect() as conn:
        tenant = conn.execute(text("SELECT region, locale, closed_days FROM tenants")).one()
        customer = conn.execute(text("SELECT search_name, country FROM customers")).one()
    engine.dispose()
    assert tuple(tenant) == ("NO", "nb", "[]")
    assert tuple(customer) == (search_name("Bjørg", "Nygård"), None) == ("bjorg nygard", None)
    command.downgrade(config, "0005")
