"""Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 of
`id.timestamp.body` with the endpoint's secret, sent as `v1,<base64>`."""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
# 24 random bytes: Standard Webhooks asks for 24 to 64.
SECRET_BYTES = 24


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The request's headers: the three of the standard, and the body's type."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
