"""Facts about the real host: name, interfaces, addresses, routes (Linux; read-only).

Nothing here sends a packet: internet access is inferred from the presence of a default
route, which is what a control box can know without contacting anyone.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import platform
import socket
import struct
from pathlib import Path
from typing import Any, Final

_SIOCGIFADDR: Final = 0x8915
_SIOCGIFBRDADDR: Final = 0x8919
_SIOCGIFNETMASK: Final = 0x891B
_SYS_NET: Final = Path("/sys/class/net")


def hostname() -> str:
    return socket.gethostname()


def _ioctl_ipv4(sock: socket.socket, interface: str, request: int) -> str:
    packed = struct.pack("256s", interface[:15].encode())
    try:
        raw = fcntl.ioctl(sock.fileno(), request, packed)
    except OSError:
        return ""
    return socket.inet_ntoa(raw[20:24])


def _default_gateways() -> dict[str, str]:
    gateways: dict[str, str] = {}
    try:
        lines = Path("/proc/net/route").read_text().splitlines()[1:]
    except OSError:
        return gateways
    for line in lines:
        fields = line.split()
        if len(fields) > 3 and fields[1] == "00000000" and int(fields[3], 16) & 2:
            gateway = socket.inet_ntoa(struct.pack("<L", int(fields[2], 16)))
            gateways.setdefault(fields[0], gateway)
    return gateways


def _interfaces() -> list[str]:
    try:
        names = sorted(os.listdir(_SYS_NET))
    except OSError:
        return []
    # Hardware devices first, as the seed's macAddr is "of the first network device".
    return sorted(
        (n for n in names if n != "lo"), key=lambda n: (not (_SYS_NET / n / "device").exists(), n)
    )


def _mac(interface: str) -> str:
    try:
        return (_SYS_NET / interface / "address").read_text().strip().upper()
    except OSError:
        return ""


def net_info() -> list[dict[str, Any]]:
    """Interfaces in the shape of the seed's ``netInfo``."""
    gateways = _default_gateways()
    out: list[dict[str, Any]] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for name in _interfaces():
            address = _ioctl_ipv4(sock, name, _SIOCGIFADDR)
            connections = []
            if address:
                connections.append(
                    {
                        "address": address,
                        "netmask": _ioctl_ipv4(sock, name, _SIOCGIFNETMASK),
                        "broadcast": _ioctl_ipv4(sock, name, _SIOCGIFBRDADDR),
                    }
                )
            out.append(
                {
                    "name": name,
                    "description": name,
                    "macAddress": _mac(name),
                    "gateway": gateways.get(name, ""),
                    "isServer": False,
                    "dhcp": False,
                    "dhcpServers": [],
                    "connections": connections,
                    "dhcpSelected": False,
                    "staticIp": "",
                    "staticMask": "",
                    "staticGateway": "",
                    "staticDns": "",
                    "staticUseGateway": False,
                    "staticUseDns": False,
                }
            )
    return out


def mac_address(interfaces: list[dict[str, Any]]) -> str:
    for interface in interfaces:
        if interface["macAddress"] and interface["macAddress"] != "00:00:00:00:00:00":
            return str(interface["macAddress"])
    return ""


def has_default_route() -> bool:
    return bool(_default_gateways())


def addresses(interfaces: list[dict[str, Any]]) -> list[str]:
    found = []
    for interface in interfaces:
        for connection in interface["connections"]:
            try:
                ipaddress.ip_address(connection["address"])
            except ValueError:
                continue
            found.append(connection["address"])
    return found


def system_description() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count() or 0,
        "python": platform.python_version(),
    }
