"""Signing keys in the database (issue 15): every node publishes and signs with the same
keys; private parts sealed with the key-encryption key.

Revision ID: keys0001
Revises: bb73f07ac99c
"""
from alembic import op
import sqlalchemy as sa

revision = "keys0001"
down_revision = "bb73f07ac99c"
branch_labels = None
depends_on = None

CURRENT = sa.text("state <> 'retired'")


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("alg", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("sealed_private", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signs_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('next', 'active', 'retired')",
                           name=op.f("ck_signing_keys_state")),
        sa.CheckConstraint("purpose IN ('oidc', 'saml')", name=op.f("ck_signing_keys_purpose")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_signing_keys_kid")),
    )
    op.create_index("uq_signing_keys_current", "signing_keys", ["purpose", "alg", "state"],
                    unique=True, sqlite_where=CURRENT, postgresql_where=CURRENT)


def downgrade() -> None:
    op.drop_index("uq_signing_keys_current", table_name="signing_keys")
    op.drop_table("signing_keys")
