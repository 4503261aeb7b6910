"""Alembic environment: migrations always run on the connection ``core.store.db.upgrade`` passes.

There is no ``alembic.ini``; ``gazescope`` applies migrations itself when a store is opened.
"""

from __future__ import annotations

from alembic import context

from core.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
