"""SSRF: every IANA special-purpose range is refused, at its edges and inside; public passes.

Literal addresses only, so no DNS is involved: ``check_url`` resolves a literal to itself.
"""

from __future__ import annotations

import ipaddress

import pytest

from publishing.webhooks.security import UnsafeDestination, check_address, check_url

# IANA IPv4/IPv6 special-purpose address registries: ranges not globally reachable, plus
# the IPv6 forms that embed an IPv4 address.
SPECIAL_PURPOSE = [
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",
    "100.64.0.0/10",  # shared address space (CGNAT)
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",  # IETF protocol assignments; 192.0.0.8 passed the guard before
    "192.0.2.0/24",  # TEST-NET-1
    "192.88.99.0/24",  # deprecated 6to4 relay anycast
    "192.168.0.0/16",
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",  # TEST-NET-2
    "203.0.113.0/24",  # TEST-NET-3
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, up to and including 255.255.255.255
    "::1/128",
    "::/128",
    "::ffff:0:0/96",  # IPv4-mapped, e.g. ::ffff:127.0.0.1
    "64:ff9b::/96",  # NAT64, e.g. 64:ff9b::10.0.0.1
    "64:ff9b:1::/48",  # local-use NAT64
    "100::/64",  # discard-only
    "2001::/23",  # IETF protocol assignments, Teredo included
    "2001:db8::/32",  # documentation
    "2002::/16",  # 6to4, e.g. 2002:7f00:1::1
    "3fff::/20",  # documentation (RFC 9637)
    "5f00::/16",  # SRv6 SIDs
    "fc00::/7",  # unique local
    "fe80::/10",  # link-local
    "ff00::/8",  # multicast
]


def samples(cidr: str) -> list[str]:
    """The first, a middle and the last address of a range."""
    network = ipaddress.ip_network(cidr)
    return sorted({str(network[0]), str(network[network.num_addresses // 2]), str(network[-1])})


REFUSED = sorted({address for cidr in SPECIAL_PURPOSE for address in samples(cidr)}) + [
    "192.0.0.8",
    "192.0.0.9",
    "255.255.255.255",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "64:ff9b::a00:1",  # 10.0.0.1 through NAT64
    "64:ff9b::7f00:1",  # 127.0.0.1 through NAT64
    "2002:a00:1::1",  # 10.0.0.1 through 6to4
]

# Global addresses, several just outside a refused range.
ACCEPTED = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.63.255.255",  # below 100.64.0.0/10
    "100.128.0.0",  # above it
    "192.0.1.1",  # between 192.0.0.0/24 and 192.0.2.0/24
    "198.17.255.255",  # below 198.18.0.0/15
    "198.20.0.1",  # above it
    "223.255.255.254",  # below multicast and 240/4
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "2a00:1450:4001::1",
]


def url_for(address: str) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"https://{host}/hooks"


@pytest.mark.parametrize("address", REFUSED)
def test_special_purpose_addresses_are_refused(address, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(UnsafeDestination):
        check_url(url_for(address))
    # The same check guards the socket at connect time.
    with pytest.raises(UnsafeDestination):
        check_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ACCEPTED)
def test_global_addresses_are_accepted(address, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    assert [str(found) for found in check_url(url_for(address))] == [address]


def test_the_allow_list_still_opens_exactly_what_it_names(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["192.0.0.0/29", "::1/128"]
    assert check_url("http://192.0.0.1/x") and check_url("http://[::1]/x")
    for still_refused in ("http://192.0.0.8/x", "http://[::ffff:192.0.0.1]/x"):
        with pytest.raises(UnsafeDestination):
            check_url(still_refused)
