"""Alembic environment: the engine comes from recoup (``config.attributes['engine']``)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import recoup.store.models  # noqa: F401  (registers the tables)

config = context.config
engine = config.attributes["engine"]
target_metadata = SQLModel.metadata

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    context.run_migrations()
