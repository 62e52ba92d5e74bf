"""The Lua scripts of the queue engine: read once, called by SHA, loaded on demand.

Nothing here holds a client: the SHA of a script is the same for every server, so a server
that does not know a script yet (new, restarted, flushed) answers NOSCRIPT once and the script
is loaded and called again.
"""

import hashlib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

SCRIPT_NAMES = (
    "place",
    "remove",
    "claim",
    "select",
    "touch",
    "release",
    "settle",
    "sweep",
    "swap",
    "held",
    "restore",
    "reserve",
    "handover",
    "seat",
)
# Scripts built around another's body: reserve.lua calls claim.lua's as claim_once().
_WRAPS = {"reserve": "claim"}


@cache
def source(name: str) -> str:
    folder = resources.files("services.queue") / "lua"
    common = (folder / "common.lua").read_text()
    body = (folder / f"{name}.lua").read_text()
    inner = _WRAPS.get(name)
    if inner is not None:
        wrapped = (folder / f"{inner}.lua").read_text()
        body = f"local function {inner}_once()\n{wrapped}\nend\n{body}"
    return common + "\n" + body


@cache
def sha(name: str) -> str:
    return hashlib.sha1(source(name).encode()).hexdigest()


class Scripts:
    """Runs the engine's scripts on one client."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def run(self, name: str, keys: Sequence[str], args: list[Any]) -> Any:
        """EVALSHA, loading the script first if this server does not know it yet."""
        try:
            return await self._redis.evalsha(sha(name), len(keys), *keys, *args)
        except NoScriptError:
            await self._redis.script_load(source(name))
            return await self._redis.evalsha(sha(name), len(keys), *keys, *args)

    def queue_in(self, pipe: Any, name: str, keys: Sequence[str], args: list[Any]) -> None:
        """Queue a plain EVALSHA in a pipeline.

        redis-py would otherwise ask SCRIPT EXISTS before every pipeline that holds a script:
        a second round trip on the hot path. A server that lost its scripts answers NOSCRIPT;
        the caller then calls load_all() and runs the script again.
        """
        pipe.evalsha(sha(name), len(keys), *keys, *args)

    async def load_all(self) -> None:
        for name in SCRIPT_NAMES:
            await self._redis.script_load(source(name))
