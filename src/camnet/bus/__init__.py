"""The bus: one message model and the transports that carry it."""
