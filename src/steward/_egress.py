"""Outbound requests to URLs that callers give (webhooks) without server-side request forgery.

A contributor who may create a webhook chooses where the server POSTs, and reads back each
delivery's status or error. Without a guard that is a way to reach, and to scan, what only
the server can: loopback services, the cloud's metadata endpoint (169.254.169.254), private
networks. With the guard on (the default in team mode, see ``Settings.allow_private_urls``):

- at creation, a URL whose host is, or resolves to, a non-public address is refused;
- at each delivery, :class:`PublicOnlyTransport` resolves the host once, refuses unless every
  address is public, and connects to the address it checked (TLS still verifies the name),
  so a name that re-resolves to a private address between check and connection (DNS
  rebinding) does not get through. Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

from steward.errors import InvalidInputError

__all__ = ["PublicOnlyTransport", "check_public_url", "is_public_address"]

_NOT_PUBLIC = "is or resolves to a loopback, private, link-local or reserved address (STEWARD_ALLOW_PRIVATE_URLS)"


def is_public_address(address: str) -> bool:
    """Whether ``address`` (an IPv4 or IPv6 literal) is a globally routable unicast address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone index is not part of the address
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_global) and not ip.is_multicast


def _addresses(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_public_url(url: str) -> None:
    """Refuse ``url`` when its host is, or now resolves to, a non-public address. A name that
    does not resolve yet is let through: each delivery checks again.

    Raises:
        InvalidInputError: naming ``url`` (never echoing it: it may carry a token).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = _addresses(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError, ValueError):
        return
    if not addresses or not all(is_public_address(a) for a in addresses):
        raise InvalidInputError(f"the webhook URL's host {_NOT_PUBLIC}", field="url")


class PublicOnlyTransport(httpx.BaseTransport):
    """An httpx transport that connects only to public addresses, pinned to the one it checked."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        try:
            addresses = _addresses(host, port)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpx.ConnectError(f"cannot resolve the host: {exc}", request=request) from None
        if not addresses or not all(is_public_address(a) for a in addresses):
            raise httpx.ConnectError(f"refused: the host {_NOT_PUBLIC}", request=request)
        # connect to the checked address; the Host header keeps the name, TLS verifies it (SNI)
        request.url = request.url.copy_with(host=addresses[0])
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()
