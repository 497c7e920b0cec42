"""Answering the bus faces (the Gateway and the ZeroMQ hub) and the streams face
without credentials.

The network vendor's Gateway and hub take no credentials, and the clients written for
them (Bitfocus Companion's module, scripts, control panels) have nowhere to put any. An
operator may therefore let requests that present *no credentials at all* act as one
configured principal: a role (``viewer`` reads the bus, ``operator``/``admin`` write it
too) in the node's own account, from a list of networks (loopback only by default).
Off by default: then such requests are refused, and each refusal is logged (once a
minute per address and face) with the setting that would admit it.

A request that presents credentials is never given this principal: a wrong token is
refused, not quietly downgraded.

The streams face (``/cameras/...``) has its own pair of settings, ``streams_anonymous_role``
and ``streams_anonymous_networks``, served by this same class: Robopipe Studio, the
streams vendor's web application, sends no credentials at all (issue 18), and an
operator may want to let a browser on the LAN watch the cameras without also letting it
write the bus. A browser request carries ``Origin``; on the streams face it must name one
of ``cors_origins``, since a browser lets any page open a WebSocket to any host (CORS does
not cover WebSockets) and the anonymous principal must not be every web page's.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from camnet.identity.actions import Action, Permissions
from camnet.identity.permissions import DEFAULT_ACCOUNT, Principal, Role, VariableGrant

log = logging.getLogger(__name__)

AnonymousRole = Literal["off", "viewer", "operator", "admin"]
LOOPBACK: Final = ("127.0.0.0/8", "::1/128")
LOG_EVERY: Final = 60.0
ROLE_SETTING: Final = "bus_anonymous_role"
NETWORKS_SETTING: Final = "bus_anonymous_networks"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(texts: Sequence[str]) -> tuple[Network, ...]:
    """CIDR networks (a bare address is a /32 or /128); ValueError names a bad one."""
    return tuple(ipaddress.ip_network(text.strip(), strict=False) for text in texts)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass
class AnonymousAccess:
    """Who a request without credentials is, for the bus faces (None: refused)."""

    role: AnonymousRole
    networks: tuple[Network, ...]
    permissions_of: Callable[[Role], Permissions]
    grant_of: Callable[[Permissions], VariableGrant]
    clock: Callable[[], float]
    role_setting: str = ROLE_SETTING
    networks_setting: str = NETWORKS_SETTING
    origins: tuple[str, ...] | None = None
    """Origins a browser request (one with ``Origin``) may come from; None: not checked."""
    _logged: dict[tuple[str, str], float] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.role != "off"

    def allows_address(self, address: str) -> bool:
        parsed = _address(address)
        return parsed is not None and any(parsed in network for network in self.networks)

    def allows_origin(self, origin: str | None) -> bool:
        if origin is None or self.origins is None:
            return True
        return origin in self.origins or "*" in self.origins

    def principal_for(self, address: str, face: str, origin: str | None = None) -> Principal | None:
        """The configured principal for a request from ``address`` (and, from a browser,
        ``origin``) to ``face``, or None (and a log line saying why and what would admit
        it)."""
        if not self.enabled:
            self._refused(
                address,
                face,
                f"requests without credentials are refused ({self.role_setting} is off); "
                f"send credentials, or set {self.role_setting} "
                f"(CAMNET_{self.role_setting.upper()}) to viewer, operator or admin",
            )
            return None
        if not self.allows_address(address):
            allowed = ", ".join(str(network) for network in self.networks) or "none"
            self._refused(
                address,
                face,
                f"{address} is outside {self.networks_setting} ({allowed}); requests without "
                "credentials are answered only from those networks",
            )
            return None
        if not self.allows_origin(origin):
            self._refused(
                address,
                face,
                f"a browser page of {origin} is not in cors_origins; requests without "
                "credentials from a browser are answered only for those origins",
            )
            return None
        role = Role(self.role)
        permissions = self.permissions_of(role)
        return Principal(
            user="anonymous",
            role=role,
            grant=self.grant_of(permissions),
            account=DEFAULT_ACCOUNT,
            permissions=permissions,
            kind="anonymous",
            session=f"anonymous:{address}",
        )

    def _refused(self, address: str, face: str, why: str) -> None:
        now = self.clock()
        key = (address, face)
        last = self._logged.get(key)
        if last is not None and now - last < LOG_EVERY:
            return
        if len(self._logged) > 10_000:
            self._logged.clear()
        self._logged[key] = now
        log.warning("%s refused a request from %s: %s", face, address, why)


def own_account_permissions(
    actions_for: Callable[[Role], frozenset[Action]],
) -> Callable[[Role], Permissions]:
    """The role's actions in the node's own account only (never every account, as the
    default account's signed-in admins get)."""

    def permissions(role: Role) -> Permissions:
        return Permissions.of([(DEFAULT_ACCOUNT, actions_for(role))])

    return permissions
