"""Storages: the configured directories, removable media and network mounts.

Each storage has a stable uuid kept in a ``.camnet-storage`` file at its root, so a USB
stick keeps its identity when it comes back under another mount point, and the c2
``recordingStorage``/``backupStorage`` selections survive restarts. Sizes are the file
system's (``shutil.disk_usage``), unless ``storage_quota_bytes`` is set: then every
storage reports that total, with camnet's own files on it as the used part, so the
retention rules can be exercised without filling a real disk.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

log = logging.getLogger(__name__)

MARKER: Final = ".camnet-storage"
StorageKind = Literal["disk", "removable", "net"]


def size_text(size: int) -> str:
    """The seed's scan text: ``'117.187 GB'`` (units of 1024³)."""
    return f"{size / 1024**3:.3f} GB"


@dataclass(frozen=True, slots=True)
class Storage:
    uuid: str
    name: str
    path: Path
    kind: StorageKind
    total: int = 0
    used: int = 0
    free: int = 0
    available: bool = False

    def describe(self) -> dict[str, Any]:
        """The c2 description (``diskStorages`` entries, the selected storage)."""
        return {
            "uuid": self.uuid,
            "name": self.name,
            "path": str(self.path),
            "type": self.kind,
            "available": self.available,
            "total": self.total,
            "totalStr": size_text(self.total),
            "used": self.used,
            "usedStr": size_text(self.used),
            "free": self.free,
            "freeStr": size_text(self.free),
        }


def tree_size(root: Path) -> int:
    """Bytes of the regular files under ``root`` (symlinks not followed)."""
    total = 0
    stack = [root]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    return total


def _read_marker(path: Path) -> str | None:
    try:
        data = json.loads((path / MARKER).read_text("utf-8"))
        value = str(data["uuid"])
        uuid.UUID(value)
        return value
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _ensure_marker(path: Path, fresh: str) -> str | None:
    existing = _read_marker(path)
    if existing is not None:
        return existing
    try:
        temporary = path / (MARKER + ".tmp")
        temporary.write_text(json.dumps({"uuid": fresh}), "utf-8")
        os.replace(temporary, path / MARKER)
    except OSError:
        return None
    return fresh


class StorageScanner:
    """Scans the storages (blocking I/O: call it from a thread)."""

    def __init__(
        self,
        directories: Sequence[Path],
        removable_root: Path | None,
        net_mounts: Sequence[Path],
        quota: int | None,
        create: Sequence[Path] = (),
    ) -> None:
        self._directories = list(directories)
        self._removable_root = removable_root
        self._net = list(net_mounts)
        self._quota = quota
        self._create = set(create)

    def scan(self) -> tuple[list[Storage], list[Storage]]:
        """``(diskStorages, netStorages)``; missing ones are listed as unavailable."""
        disks = [self._one(path, "disk") for path in self._directories]
        root = self._removable_root
        if root is not None and root.is_dir():
            try:
                media = sorted(p for p in root.iterdir() if p.is_dir())
            except OSError:
                media = []
            disks.extend(self._one(path, "removable") for path in media)
        nets = [self._one(path, "net") for path in self._net]
        return disks, nets

    def _one(self, path: Path, kind: StorageKind) -> Storage:
        stable = str(uuid.uuid5(uuid.NAMESPACE_URL, f"camnet-storage:{path.resolve()}"))
        if path in self._create:
            path.mkdir(parents=True, exist_ok=True)
        if not path.is_dir() or not os.access(path, os.W_OK):
            return Storage(_read_marker(path) or stable, path.name, path, kind)
        fresh = str(uuid.uuid4()) if kind == "removable" else stable
        marked = _ensure_marker(path, fresh)
        if marked is None:
            return Storage(stable, path.name, path, kind)
        try:
            usage = shutil.disk_usage(path)
        except OSError:
            return Storage(marked, path.name, path, kind)
        if self._quota is None:
            total, used, free = usage.total, usage.used, usage.free
        else:
            used = tree_size(path)
            total = self._quota
            free = max(0, min(total - used, usage.free))
        return Storage(marked, path.name or str(path), path, kind, total, used, free, True)
