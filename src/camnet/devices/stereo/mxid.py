"""The default simulated stereo camera's mxid, derived from the machine name (issue 19).

Every node used to serve the same default mxid, ``14442C10D13EABCE00``, so the nodes of
a network could not tell their cameras apart. The default is now that mxid's first
eight digits followed by the first ten hex digits of SHA-256 of the machine name: the
same form (18 upper-case hex digits), stable across restarts, different on every node.
"""

from __future__ import annotations

import hashlib
from typing import Final

MXID_PREFIX: Final = "14442C10"


def default_stereo_mxid(machine_name: str) -> str:
    digest = hashlib.sha256(machine_name.encode()).hexdigest().upper()
    return MXID_PREFIX + digest[:10]
