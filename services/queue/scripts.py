"""The Lua scripts of the queue engine, loaded once and registered once per client."""

from functools import cache
from importlib import resources
from typing import Any
from weakref import WeakKeyDictionary

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

SCRIPT_NAMES = ("place", "remove", "claim", "select", "touch", "release", "settle", "sweep")


@cache
def _source(name: str) -> str:
    folder = resources.files("services.queue") / "lua"
    common = (folder / "common.lua").read_text()
    return common + "\n" + (folder / f"{name}.lua").read_text()


class Scripts:
    """Registered scripts for one client; EVALSHA, loading the script on first use."""

    def __init__(self, redis: "Redis") -> None:
        self._redis = redis
        self._scripts: dict[str, AsyncScript] = {
            name: redis.register_script(_source(name)) for name in SCRIPT_NAMES
        }

    async def run(self, name: str, key: str, args: list[Any]) -> Any:
        """EVALSHA, loading the script first if this server does not know it yet."""
        return await self._scripts[name](keys=[key], args=args)

    def queue_in(self, pipe: Any, name: str, key: str, args: list[Any]) -> None:
        """Queue a plain EVALSHA in a pipeline.

        redis-py would otherwise ask SCRIPT EXISTS before every pipeline that holds a script:
        a second round trip on the hot path. A server that lost its scripts (restart) answers
        NOSCRIPT; the caller then calls load_all() and runs the pipeline again.
        """
        pipe.evalsha(self._scripts[name].sha, 1, key, *args)

    async def load_all(self) -> None:
        for name in SCRIPT_NAMES:
            await self._redis.script_load(_source(name))


# Weak keys: a closed, dropped client takes its registered scripts with it.
_registry: "WeakKeyDictionary[Redis, Scripts]" = WeakKeyDictionary()


def scripts_for(redis: "Redis") -> Scripts:
    """One Scripts per client object, so the SHA of each script is computed once."""
    found = _registry.get(redis)
    if found is None:
        found = _registry[redis] = Scripts(redis)
    return found
