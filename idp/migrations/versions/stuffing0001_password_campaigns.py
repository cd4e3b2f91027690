"""Credential stuffing: forced password change campaigns, when a password was chosen,
device cookies revoked per account

Revision ID: stuffing0001
Revises: bb73f07ac99c
"""
from alembic import op
import sqlalchemy as sa


revision = "stuffing0001"
down_revision = "bb73f07ac99c"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.add_column(sa.Column("password_changed_at", TZ, nullable=True))
        batch_op.add_column(sa.Column("devices_revoked_at", TZ, nullable=True))
    op.create_table(
        "password_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("forced", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_campaigns")),
    )
    op.create_table(
        "password_change_demands",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("forced_at", TZ, nullable=False),
        sa.Column("done_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["password_campaigns.id"], ondelete="CASCADE",
                                name=op.f("fk_password_change_demands_campaign_id_password_campaigns")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_password_change_demands_account_id_accounts")),
        sa.PrimaryKeyConstraint("campaign_id", "account_id",
                                name=op.f("pk_password_change_demands")),
    )
    op.create_index("ix_password_change_demands_account_done", "password_change_demands",
                    ["account_id", "done_at"])


def downgrade() -> None:
    op.drop_index("ix_password_change_demands_account_done", "password_change_demands")
    op.drop_table("password_change_demands")
    op.drop_table("password_campaigns")
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.drop_column("devices_revoked_at")
        batch_op.drop_column("password_changed_at")
