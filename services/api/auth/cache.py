"""In-process cache of authenticated callers, so /next does not read the database to know
who is asking.

A revoked token or a changed user is dropped from every API process's cache as soon as the
revocation is published (services/api/auth/revocations.py, well within a second); TTL_S is the
backstop should a message be lost. An entry never outlives its token's expiry.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.infra.timeutil import as_utc

# The backstop: a revocation whose message was lost on a healthy-looking connection still takes
# effect within this (a lost subscription empties the cache at once). Each token in use costs
# one token read per process per TTL_S: at 10 s, 200 agents on two processes spent about 8% of
# the API's CPU reading their tokens again (a py-spy profile under the benchmark's load).
TTL_S = 60.0
MAX_ENTRIES = 50_000


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    tenant_id: int
    name: str
    # What this token may do: its user's permissions, narrowed by the token's scopes.
    permissions: frozenset[str]
    token_id: int = 0
    expires_at: datetime | None = None
    # The user's profile language (labels of the care pipeline); None: Accept-Language decides.
    language: str | None = None

    def has(self, permission: str) -> bool:
        return "administrator" in self.permissions or permission in self.permissions


class PrincipalCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, token_hash: str) -> Principal | None:
        entry = self._entries.get(token_hash)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token_hash: str, principal: Principal, *, now: datetime) -> None:
        """Keep `principal` for TTL_S, or until its token expires if that comes first."""
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        keep_s = TTL_S
        if principal.expires_at is not None:
            keep_s = min(keep_s, (as_utc(principal.expires_at) - now).total_seconds())
        self._entries[token_hash] = (time.monotonic() + keep_s, principal)

    def forget_user(self, user_id: int) -> None:
        self._forget(lambda p: p.user_id == user_id)

    def forget_token(self, token_id: int) -> None:
        self._forget(lambda p: p.token_id == token_id)

    def clear(self) -> None:
        self._entries.clear()

    def _forget(self, matches: Callable[[Principal], bool]) -> None:
        for key in [k for k, (_, p) in self._entries.items() if matches(p)]:
            self._entries.pop(key, None)
