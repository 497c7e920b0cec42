"""Fuzzing the webhook URL guard (fleet/webhooks/ssrf.py) with a stub resolver: no test
resolves a real name or sends anything. Whatever the URL and whatever its host resolves
to, the guard answers the addresses it allows or ``Refused``; it allows a URL only when
every address is globally routable unicast, including any IPv4 address carried inside
an IPv6 one (mapped, translated, compatible, NAT64, 6to4, Teredo)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from camnet.fleet.webhooks.ssrf import AllowList, Guard, Refused

FUZZ = settings(
    max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PRIVATE_V4 = ["127.0.0.1", "10.1.2.3", "169.254.169.254", "192.168.0.1", "0.0.0.0", "100.64.0.1"]
PUBLIC_V4 = ["93.184.216.34", "8.8.8.8"]
TRICKY = [
    *PRIVATE_V4,
    *PUBLIC_V4,
    "::1",
    "::",
    "fe80::1%eth0",
    "fd00::1",
    "ff02::1",
    "ff0e::1",
    "224.0.0.1",
    "::ffff:127.0.0.1",
    "::ffff:0:7f00:1",
    "::7f00:1",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::",
    "2002:808:808::",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "2606:4700::1111",
]
addresses = st.one_of(
    st.sampled_from(TRICKY), st.ip_addresses().map(str), st.ip_addresses(v=6).map(str)
)


def carried(text: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The oracle, written independently of the guard: the address and the IPv4 inside."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        value = int(address)
        low = ipaddress.IPv4Address(value & 0xFFFFFFFF)
        if value >> 32 in (0, 0xFFFF, 0xFFFF0000) or value >> 32 == 0x64FF9B << 64:
            found.append(low)
        if value >> 112 == 0x2002:
            found.append(ipaddress.IPv4Address((value >> 80) & 0xFFFFFFFF))
        if value >> 96 == 0x20010000:
            found.append(ipaddress.IPv4Address((value >> 64) & 0xFFFFFFFF))
            found.append(ipaddress.IPv4Address(~value & 0xFFFFFFFF))
    return found


def safe(text: str) -> bool:
    return all(a.is_global and not a.is_multicast for a in carried(text))


def check(url: str, resolved: Sequence[str] | None) -> list[str]:
    async def stub(_host: str, _port: int) -> Sequence[str]:
        if resolved is None:
            raise OSError("no such name")
        return resolved

    return asyncio.run(Guard(AllowList.parse(""), stub).check(url))


@FUZZ
@given(
    st.sampled_from(["http", "https", "ftp", "file", "HTTP", "gopher", ""]),
    st.sampled_from(["", "user@", "user:pw@", ":@"]),
    st.one_of(st.just("hook.example"), addresses.map(lambda a: f"[{a}]" if ":" in a else a)),
    st.sampled_from(["", ":80", ":0", ":65535", ":99999", ":x"]),
    st.lists(addresses, max_size=3) | st.none(),
)
@example("http", "", "[::ffff:0:7f00:1]", "", ["8.8.8.8"])
@example("http", "", "hook.example", "", ["8.8.8.8", "2002:7f00:1::"])
def test_guard_allows_only_global_unicast(
    scheme: str, userinfo: str, host: str, port: str, resolved: list[str] | None
) -> None:
    url = f"{scheme}://{userinfo}{host}{port}/hook"
    try:
        allowed = check(url, resolved)
    except Refused as refusal:
        assert str(refusal)
        return
    assert scheme.lower() in ("http", "https")
    assert userinfo == ""
    assert allowed
    assert all(safe(address) for address in allowed), (url, allowed)
    if host == "hook.example":
        assert resolved is not None
        assert sorted(allowed) == sorted(resolved)


@FUZZ
@given(st.text(max_size=60), st.lists(addresses, max_size=2) | st.none())
@example("http://[::1", ["8.8.8.8"])
@example("http://host:-1/", ["8.8.8.8"])
@example("http://\x00/", ["8.8.8.8"])
@example("http://[fe80::1%25eth0]/", None)
def test_any_text_is_allowed_or_refused(url: str, resolved: list[str] | None) -> None:
    try:
        allowed = check(url, resolved)
    except Refused:
        return
    assert all(safe(address) for address in allowed), (url, allowed)
