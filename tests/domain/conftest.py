"""The domain's rules are pure functions: these tests need neither PostgreSQL nor Redis."""

import pytest


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """Nothing to clean: replaces the suite's database truncation for these tests."""
