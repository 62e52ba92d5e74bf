import pytest


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """Nothing to clean: these tests use neither PostgreSQL nor Redis."""
