"""Ajouter un enfant: a provisional representative account merged into the family's

Revision ID: family0002
Revises: family0001
"""
from alembic import op
import sqlalchemy as sa


revision = "family0002"
down_revision = "family0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_accounts_merged_into_id_accounts", "accounts",
                                    ["merged_into_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.drop_constraint("fk_accounts_merged_into_id_accounts", type_="foreignkey")
        batch_op.drop_column("merged_into_id")
