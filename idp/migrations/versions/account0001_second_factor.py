"""Families' optional second factor: TOTP authenticators and recovery codes

Revision ID: account0001
Revises: bb73f07ac99c
"""
from alembic import op
import sqlalchemy as sa


revision = "account0001"
down_revision = "bb73f07ac99c"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "second_factors",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("sealed_secret", sa.String(length=255), nullable=False),
        sa.Column("enabled_at", TZ, nullable=False),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_second_factors_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_second_factors")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_recovery_codes_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index("ix_recovery_codes_account_hash", "recovery_codes",
                    ["account_id", "code_hash"])


def downgrade() -> None:
    op.drop_index("ix_recovery_codes_account_hash", table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("second_factors")
