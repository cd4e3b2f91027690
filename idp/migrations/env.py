"""Alembic environment: the database URL comes from the IdP settings."""
from __future__ import annotations

from alembic import context

from idp import config as idp_config
from idp.db import make_engine
from idp.models import Base
from idp.models.base import UTCDateTime

target_metadata = Base.metadata


def render_item(kind, obj, autogen_context):
    """New revisions name the plain type under UTCDateTime (the decorator only converts
    values in Python), so migrations never import the application's models."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import sqlalchemy as sa")
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    url = context.config.attributes.get("database_url") or idp_config.load()["DATABASE_URL"]
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite",
                          render_item=render_item)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
