"""The outside world: host facts, frame sources, transports."""
