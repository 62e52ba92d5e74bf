"""In-process cache of authenticated callers, so /next does not read the database to know
who is asking. A revoked token or changed permission takes effect everywhere within TTL_S."""

import time
from dataclasses import dataclass

TTL_S = 30.0
MAX_ENTRIES = 50_000


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    tenant_id: int
    name: str
    permissions: frozenset[str]

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

    def put(self, token_hash: str, principal: Principal) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[token_hash] = (time.monotonic() + TTL_S, principal)

    def forget_user(self, user_id: int) -> None:
        for key in [k for k, (_, p) in self._entries.items() if p.user_id == user_id]:
            self._entries.pop(key, None)
