"""The SSRF guard: where a webhook may send, decided before every request (no sockets).

Only ``http``/``https``, no credentials in the URL, and every address the host resolves
to must be globally routable, unless the host or the address is on the operator's allow
list (``webhook_allow``: host names and CIDRs, comma-separated). The resolver is passed
in, so the guard is tested with a stub and never sends traffic anywhere.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""(host, port) → the addresses it resolves to, as text."""


class Refused(ValueError):
    """A destination the guard will not send to; the message says why."""


@dataclass(frozen=True)
class AllowList:
    hosts: frozenset[str]
    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, text: str | Iterable[str]) -> AllowList:
        items = text.split(",") if isinstance(text, str) else list(text)
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in items:
            item = raw.strip()
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


async def system_resolver(host: str, port: int) -> Sequence[str]:
    import asyncio

    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def check_form(url: str) -> tuple[str, int]:
    """Scheme, credentials and host of a URL; returns (host, port) or raises Refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"the URL does not parse: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise Refused("only http and https URLs are allowed")
    if parts.username is not None or parts.password is not None:
        raise Refused("credentials in the URL are not allowed; use data.headers")
    host = parts.hostname
    if not host:
        raise Refused("the URL has no host")
    return host, port or (443 if parts.scheme == "https" else 80)


def _address(text: str) -> IPAddress:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_TRANSLATED: Final = ipaddress.IPv6Network("::ffff:0:0:0/96")
IPV4_COMPATIBLE: Final = ipaddress.IPv6Network("::/96")


def embedded(address: IPAddress) -> list[IPAddress]:
    """The address and every IPv4 address it carries inside (6to4, Teredo, NAT64,
    IPv4-translated, IPv4-compatible): ``2002:7f00:1::`` or ``64:ff9b::a9fe:a9fe`` count
    as global IPv6 to ``ipaddress``, yet a relay or translator on the path delivers them
    to 127.0.0.1 or 169.254.169.254, so each carried address must pass too."""
    found: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv4Address):
        return found
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in net for net in (NAT64, IPV4_TRANSLATED, IPV4_COMPATIBLE)):
        found.append(low32)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def forbidden(address: IPAddress) -> bool:
    """Not globally routable, or multicast, itself or through an address it carries."""
    return any(not a.is_global or a.is_multicast for a in embedded(address))


class Guard:
    def __init__(self, allow: AllowList, resolver: Resolver = system_resolver) -> None:
        self.allow = allow
        self.resolver = resolver

    async def check(self, url: str) -> list[str]:
        """The addresses the URL may be sent to; raises Refused when any is forbidden."""
        host, port = check_form(url)
        try:
            literal: IPAddress | None = _address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = list(await self.resolver(host, port))
            except OSError as exc:
                raise Refused(f"{host} does not resolve: {exc}") from None
            if not addresses:
                raise Refused(f"{host} does not resolve")
        if self.allow.allows_host(host):
            return addresses
        for text in addresses:
            address = _address(text)
            if self.allow.allows_address(address):
                continue
            if forbidden(address):
                raise Refused(
                    f"{host} resolves to {address}, which is not globally routable "
                    "(allow it with the webhook_allow setting)"
                )
        return addresses
