"""refresh_tokens.claims: the claims the `claims` request parameter asked for userinfo
(space-separated names), carried from a code's redemption through every rotation of its grant.

Revision ID: claims0001
Revises: oidcperf0001
"""
import sqlalchemy as sa
from alembic import op

revision = "claims0001"
down_revision = "oidcperf0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("refresh_tokens", sa.Column("claims", sa.String(500), nullable=True))


def downgrade() -> None:
    op.drop_column("refresh_tokens", "claims")
