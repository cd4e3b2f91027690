"""FranceConnect (issue 19): links between FranceConnect identities and accounts

Revision ID: franceconnect0001
Revises: signup0001
"""
from alembic import op
import sqlalchemy as sa


revision = "franceconnect0001"
down_revision = "signup0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "franceconnect_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("birthdate", sa.Date(), nullable=True),
        sa.Column("birthplace", sa.String(length=5), nullable=True),
        sa.Column("birthcountry", sa.String(length=5), nullable=True),
        sa.Column("created_account", sa.Boolean(), nullable=False),
        sa.Column("placeholder_hash", sa.String(length=255), nullable=True),
        sa.Column("linked_at", TZ, nullable=False),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_franceconnect_links_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_franceconnect_links")),
        sa.UniqueConstraint("account_id", name=op.f("uq_franceconnect_links_account_id")),
        sa.UniqueConstraint("sub", name=op.f("uq_franceconnect_links_sub")),
    )


def downgrade() -> None:
    op.drop_table("franceconnect_links")
