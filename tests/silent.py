"""A loopback TCP listener that accepts connections and never answers: a peer that hangs
(a camera, a webhook receiver). Nothing it holds is read or written until ``hang_up``."""

from __future__ import annotations

import contextlib
import socket
import threading


class SilentListener:
    def __init__(self, port: int = 0) -> None:
        self._listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.port: int = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self._listener.accept()
                self._held.append(connection)

    @property
    def connections(self) -> int:
        """Connections accepted so far: the peer really was asked."""
        return len(self._held)

    def hang_up(self) -> None:
        """Stop listening and close every held connection (the port is free again)."""
        with contextlib.suppress(OSError):  # shutdown wakes the accept(); close alone not
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(5)
        for connection in self._held:
            connection.close()
