"""Alembic environment: migrations run on the connection camnet hands over."""

from __future__ import annotations

from alembic import context

from camnet.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - camnet always passes its connection
    raise RuntimeError("camnet migrations run through camnet.store.database.migrate")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
