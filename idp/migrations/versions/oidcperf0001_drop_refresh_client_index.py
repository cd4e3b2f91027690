"""Drop the index on refresh_tokens.client_id: nothing looks tokens up by client alone,
and PostgreSQL picked it, on a table without statistics yet, over the unique token_hash
index for the refresh grant (then reading every token of the client).

Revision ID: oidcperf0001
Revises: bb73f07ac99c
"""
from alembic import op

revision = "oidcperf0001"
down_revision = "bb73f07ac99c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_refresh_tokens_client_id", table_name="refresh_tokens")


def downgrade() -> None:
    op.create_index("ix_refresh_tokens_client_id", "refresh_tokens", ["client_id"])
