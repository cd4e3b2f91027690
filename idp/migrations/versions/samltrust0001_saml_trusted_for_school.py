"""SAML service providers can be marked trusted for the school (consent skipped), like
OIDC clients.

Revision ID: samltrust0001
Revises: saml0001
"""
from alembic import op
import sqlalchemy as sa

revision = "samltrust0001"
down_revision = "saml0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("saml_service_providers") as batch:
        batch.add_column(sa.Column("trusted_for_school", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("saml_service_providers") as batch:
        batch.drop_column("trusted_for_school")
