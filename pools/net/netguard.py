"""Which addresses outbound HTTP may connect to: globally routable unicast only, plus the
networks a deployment explicitly allows (``allowed_networks``).

``ipaddress.is_private`` alone is wrong (``100.64.0.1`` is not private, yet not routable), and
``is_global`` differs between Python versions, so the blocked ranges are listed explicitly
here and ``is_global`` is required as well. IPv6 forms that embed or tunnel IPv4 (mapped,
NAT64, 6to4, Teredo) are refused outright: they would let a v6 literal reach a v4 target.
"""

from __future__ import annotations

import ipaddress
import re

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_V4_BLOCKED = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
    )
)
_V6_BLOCKED = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback, IPv4-compatible
        "::ffff:0:0/96",  # IPv4-mapped
        "::ffff:0:0:0/96",  # IPv4-translated
        "64:ff9b::/96",  # NAT64 well-known prefix
        "64:ff9b:1::/48",  # NAT64 local-use
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments, incl. Teredo 2001::/32, benchmarking
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4
        "3fff::/20",  # documentation
        "5f00::/16",  # SRv6 SIDs
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_LOOPBACK_V4 = ipaddress.IPv4Network("127.0.0.0/8")
_LOOPBACK_V6 = ipaddress.IPv6Address("::1")
_NUM = re.compile(r"^(0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$")


class AddressRefused(Exception):
    """The target address is not globally routable (SSRF guard)."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        super().__init__(f"refused {host} → {address}: {reason}")
        self.host = host
        self.address = address
        self.reason = reason


def _inet_aton(text: str) -> ipaddress.IPv4Address | None:
    """BSD ``inet_aton`` spellings: ``2130706433``, ``0x7f.1``, ``017700000001``, ``127.1``."""
    parts = text.lower().split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUM.match(p) for p in parts):
        return None
    values = []
    for p in parts:
        if p.startswith("0x"):
            values.append(int(p[2:] or "0", 16))
        elif p.startswith("0") and len(p) > 1:
            values.append(int(p, 8))
        else:
            values.append(int(p))
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = 0
    for v in head:
        number = number * 256 + v
    number = (number << (8 * (4 - len(head)))) | last
    return ipaddress.IPv4Address(number)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host string denotes by itself (any spelling), else ``None``."""
    text = host.strip().strip("[]").rstrip(".")
    if not text:
        return None
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return _inet_aton(text)


def allowed_networks(cidrs: list[str] | tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Parse CIDRs (``10.1.0.0/16``, ``127.0.0.1/32``, ``fd00::/8``); raises ``ValueError``."""
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs)


def refusal_reason(ip: IPAddress, *, allow_loopback: bool = False,
                   allowed: tuple[IPNetwork, ...] = ()) -> str | None:
    """Why ``ip`` must not be contacted, or ``None`` when it may be. ``allowed`` networks
    are let through whatever their range (an explicit, deployment-level exception)."""
    if allow_loopback and (ip in _LOOPBACK_V4 if ip.version == 4 else ip == _LOOPBACK_V6):
        return None
    if any(ip.version == net.version and ip in net for net in allowed):
        return None
    blocked = _V4_BLOCKED if ip.version == 4 else _V6_BLOCKED
    for net in blocked:
        if ip in net:
            return f"in non-routable range {net}"
    if not ip.is_global:
        return "not globally routable"
    return None


def check_address(host: str, address: str, *, allow_loopback: bool = False,
                  allowed: tuple[IPNetwork, ...] = ()) -> IPAddress:
    """The parsed address when it may be contacted; raises ``AddressRefused`` otherwise."""
    ip = parse_ip_literal(address)
    if ip is None:
        raise AddressRefused(host, address, "not an IP address")
    reason = refusal_reason(ip, allow_loopback=allow_loopback, allowed=allowed)
    if reason:
        raise AddressRefused(host, address, reason)
    return ip
