"""J5 RP notices: the pupils' "tu" wording of a notice version (as charter0001 for
charters)

Revision ID: notice0001
Revises: charter0001
"""
from alembic import op
import sqlalchemy as sa


revision = "notice0001"
down_revision = "charter0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rp_notices") as batch_op:
        batch_op.add_column(sa.Column("pupil_body", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rp_notices") as batch_op:
        batch_op.drop_column("pupil_body")
