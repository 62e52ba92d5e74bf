"""A private Redis server, to lose a subscription on purpose."""

from tests.chaos.redis_server import server

__all__ = ["server"]
