"""Keep partner URLs from reaching this machine or a private network (SSRF).

A URL is checked twice: when the partner is saved, and again when we connect, because a
hostname that resolved to a public address at save time may resolve to 127.0.0.1 a
minute later (DNS rebinding). At connect time we resolve once, check every address, and
open the socket to the address we checked; the hostname still goes into the Host header,
SNI and certificate check, so HTTPS keeps working.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util.connection import create_connection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IANA special-purpose ranges that are not globally reachable but that ``is_global`` in
# the Python we run (3.11.7) still calls global; newer Pythons agree (CVE-2024-4032), so
# listing them again costs nothing there. 192.0.0.0/24 is refused whole, including the
# two anycast service addresses (.9, .10) that IANA does route: no partner uses them.
NOT_GLOBAL = [
    ipaddress.ip_network(cidr)
    for cidr in (
        "192.0.0.0/24",  # IETF protocol assignments (192.0.0.8 passed before this)
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "3fff::/20",  # documentation (RFC 9637)
    )
]
# IPv6 forms that embed an IPv4 address and so could smuggle a private one: NAT64 and
# 6to4 (IPv4-mapped and Teredo are recognised by ``ipaddress`` itself). Refused whole.
EMBEDS_IPV4 = [
    ipaddress.ip_network(cidr) for cidr in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16")
]


class UnsafeDestination(ValueError):
    """The URL is not http(s), or resolves to an address partners may not use."""


@lru_cache(maxsize=8)
def _parse_networks(raw: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in raw)


def allowed_networks() -> tuple:
    """The operator's exceptions, ``WEBHOOK_ALLOWED_NETWORKS`` (a list or a comma string)."""
    raw = settings.WEBHOOK_ALLOWED_NETWORKS
    if isinstance(raw, str):
        raw = [item for item in raw.split(",") if item.strip()]
    return _parse_networks(tuple(item.strip() for item in raw))


def check_address(address: IPAddress) -> None:
    """Raise ``UnsafeDestination`` unless ``address`` is public or explicitly allowed."""
    networks = allowed_networks()
    if any(address in network for network in networks if network.version == address.version):
        return
    if isinstance(address, ipaddress.IPv6Address) and (
        address.ipv4_mapped or address.teredo or any(address in network for network in EMBEDS_IPV4)
    ):
        raise UnsafeDestination(
            _("%(address)s embeds an IPv4 address; use a public address instead.")
            % {"address": address}
        )
    # ``is_global`` is the rule (it excludes private, loopback, link-local, shared,
    # documentation and benchmarking ranges); the rest add what it misses: multicast,
    # reserved space outside 2000::/3 (e.g. 5f00::/16, SRv6), and ``NOT_GLOBAL``.
    if (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or any(address in network for network in NOT_GLOBAL if network.version == address.version)
    ):
        raise UnsafeDestination(
            _("%(address)s is not a public address (loopback, private, link-local or reserved).")
            % {"address": address}
        )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, each checked; raises if any is unsafe."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise UnsafeDestination(
                _("%(host)s could not be resolved: %(error)s") % {"host": host, "error": exc}
            ) from exc
        addresses = []
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%")[0])
            if address not in addresses:
                addresses.append(address)
    if not addresses:
        raise UnsafeDestination(_("%(host)s has no addresses.") % {"host": host})
    for address in addresses:
        # One unsafe answer refuses the whole name: an attacker controls the order.
        check_address(address)
    return addresses


def check_url(url: str) -> list[IPAddress]:
    """Validate a partner URL as it is saved: http(s), a host, only safe addresses."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise UnsafeDestination(_("Only http and https URLs are allowed."))
    if not parts.hostname:
        raise UnsafeDestination(_("The URL has no host."))
    if parts.username or parts.password:
        raise UnsafeDestination(_("The URL must not contain a user name or password."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeDestination(_("The URL's port is not valid.")) from exc
    return resolve(parts.hostname, port)


class UnsafeConnectionError(NewConnectionError):
    """Raised from inside urllib3 so requests reports it as a connection error."""


class _CheckedConnectionMixin:
    """Resolve, check, and connect to the checked address (never re-resolve)."""

    def _new_conn(self) -> socket.socket:
        try:
            addresses = resolve(self._dns_host, self.port)
        except UnsafeDestination as exc:
            raise UnsafeConnectionError(self, str(exc)) from exc
        last_error: OSError | None = None
        for address in addresses:
            try:
                sock = create_connection(
                    (str(address), self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as exc:
                last_error = exc
                continue
            # Belt and braces: the peer we reached is the address we checked.
            check_address(ipaddress.ip_address(sock.getpeername()[0].split("%")[0]))
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")


class CheckedHTTPConnection(_CheckedConnectionMixin, HTTPConnection):
    pass


class CheckedHTTPSConnection(_CheckedConnectionMixin, HTTPSConnection):
    pass


class CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = CheckedHTTPConnection


class CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = CheckedHTTPSConnection


class CheckedAdapter(HTTPAdapter):
    """A requests adapter whose every connection goes through the address check."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": CheckedHTTPConnectionPool,
            "https": CheckedHTTPSConnectionPool,
        }
