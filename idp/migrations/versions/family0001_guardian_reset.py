"""Mes enfants: a pupil's temporary password set by a legal representative

Revision ID: family0001
Revises: school0001
"""
from alembic import op
import sqlalchemy as sa


revision = "family0001"
down_revision = "school0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.add_column(sa.Column("guardian_reset_at", sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.drop_column("guardian_reset_at")
