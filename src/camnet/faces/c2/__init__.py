"""The c2 dialect: the control-unit API of the c2 seed (``/api`` over HTTP and WebSocket)."""
