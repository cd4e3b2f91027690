"""Alembic environment: the database URL comes from the IdP settings."""
from __future__ import annotations

from alembic import context

from idp import config as idp_config
from idp.db import make_engine
from idp.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    url = context.config.attributes.get("database_url") or idp_config.load()["DATABASE_URL"]
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
