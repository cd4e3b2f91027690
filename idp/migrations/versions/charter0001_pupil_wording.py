"""J5 charter: the pupils' "tu" wording of a charter version

Revision ID: charter0001
Revises: gating0001
"""
from alembic import op
import sqlalchemy as sa


revision = "charter0001"
down_revision = "gating0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("charter_versions") as batch_op:
        batch_op.add_column(sa.Column("pupil_body", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("charter_versions") as batch_op:
        batch_op.drop_column("pupil_body")
