"""The SSRF address guard: every non-routable form is refused, public unicast passes."""

from __future__ import annotations

import ipaddress

import pytest

from actors.scrape.netguard import AddressRefused, check_address, parse_ip_literal, refusal_reason

REFUSED = [
    "127.0.0.1", "127.8.9.10", "0.0.0.0", "10.1.2.3", "172.16.0.1", "172.31.255.255",
    "192.168.1.1", "169.254.169.254", "100.64.0.1", "100.127.255.254", "192.0.0.1",
    "192.0.0.9", "192.0.0.170", "192.0.2.5", "198.18.0.1", "198.19.255.1", "198.51.100.7",
    "203.0.113.9", "192.88.99.1", "224.0.0.1", "239.255.255.250", "240.0.0.1",
    "255.255.255.255", "::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:8.8.8.8",
    "::127.0.0.1", "64:ff9b::a00:1", "64:ff9b::808:808", "64:ff9b:1::1", "2002:c0a8:0101::1",
    "2002:0808:0808::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:db8::1", "2001:2::1",
    "3fff::1", "fc00::1", "fd12:3456::1", "fe80::1", "fe80::1%eth0", "fec0::1", "ff02::1",
    "100::1",
]
ALLOWED = ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "2a00:1450:4001::200e"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_routable_addresses_are_refused(address: str) -> None:
    with pytest.raises(AddressRefused):
        check_address("example.com", address)


@pytest.mark.parametrize("address", ALLOWED)
def test_public_unicast_addresses_are_allowed(address: str) -> None:
    assert str(check_address("example.com", address)) == str(ipaddress.ip_address(address))


def test_carrier_grade_nat_is_refused_although_python_does_not_call_it_private() -> None:
    ip = ipaddress.ip_address("100.64.0.1")
    assert not ip.is_private  # the trap the issue warns about
    assert refusal_reason(ip) is not None


@pytest.mark.parametrize(
    ("spelling", "meaning"),
    [("2130706433", "127.0.0.1"), ("017700000001", "127.0.0.1"), ("0x7f000001", "127.0.0.1"),
     ("0x7f.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("0177.0.0.01", "127.0.0.1"),
     ("167772161", "10.0.0.1"), ("012.0.0.1", "10.0.0.1"),
     ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
     ("[::ffff:7f00:1]", "::ffff:7f00:1"), ("10.0.0.1.", "10.0.0.1")],
)
def test_decimal_octal_and_hex_ip_spellings_are_read_as_the_address_they_denote(
    spelling: str, meaning: str
) -> None:
    assert parse_ip_literal(spelling) == ipaddress.ip_address(meaning)
    with pytest.raises(AddressRefused):
        check_address(spelling, spelling)


@pytest.mark.parametrize("name", ["acme-widgets.com", "1.2.3.4.5", "0x7g.1", "08.0.0.1", ""])
def test_host_names_are_not_mistaken_for_ip_literals(name: str) -> None:
    assert parse_ip_literal(name) is None


def test_loopback_passes_only_with_the_explicit_flag() -> None:
    for address in ("127.0.0.1", "::1"):
        with pytest.raises(AddressRefused):
            check_address("h", address)
        assert check_address("h", address, allow_loopback=True)
    with pytest.raises(AddressRefused):  # the flag opens loopback, nothing else
        check_address("h", "10.0.0.1", allow_loopback=True)
