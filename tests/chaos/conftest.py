"""A private Redis server for the tests that kill one."""

from tests.chaos.redis_server import server

__all__ = ["server"]
