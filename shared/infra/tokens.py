"""Opaque bearer tokens: shown once, stored as SHA-256."""

import hashlib
import secrets

TOKEN_PREFIX = "nc_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
