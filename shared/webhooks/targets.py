"""Which URLs a webhook may be sent to (server-side request forgery, decision 037).

A tenant's administrator names the URL, and the worker calls it from inside the deployment:
unless the deployment allows private targets, the URL must be https and its host must not be
(or resolve to) a loopback, private, link-local, multicast, reserved or unspecified address
(the cloud metadata service at 169.254.169.254 is link-local). The host is checked when the
endpoint is saved and again, resolved afresh, before every delivery (DNS may change).
"""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL_CHARS = 2000


class TargetRefused(ValueError):
    """The URL is not one a webhook may be sent to; the message says why."""


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def checked_url(url: str, *, allow_private: bool) -> str:
    """The URL, if its form may be a webhook's target; its host is resolved by `resolve`."""
    if len(url) > MAX_URL_CHARS:
        raise TargetRefused(f"the URL is longer than {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises for a port out of range)
    except ValueError as exc:
        raise TargetRefused(f"not a URL: {exc}") from None
    schemes = ("http", "https") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise TargetRefused(f"the URL must start with {' or '.join(s + '://' for s in schemes)}")
    if not parts.hostname:
        raise TargetRefused("the URL names no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL must not carry a user name or password")
    if parts.fragment:
        raise TargetRefused("the URL must not carry a fragment")
    if not allow_private and _literal_private(parts.hostname):
        raise TargetRefused("the URL's host is a loopback, private or reserved address")
    return url


def _literal_private(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return _private(host)
    except ValueError:
        return False  # a name: resolved before each delivery


async def resolve(url: str, *, allow_private: bool) -> None:
    """Refuse the URL when its host resolves to an address a webhook may not reach."""
    if allow_private:
        return
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"the host does not resolve ({exc.strerror})") from None
    if any(_private(str(info[4][0])) for info in infos):
        raise TargetRefused("the URL's host resolves to a loopback, private or reserved address")
