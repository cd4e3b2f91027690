"""School dashboard: accounts by school and class

The dashboard counts and lists a school's accounts class by class; without this index
PostgreSQL read every account of the school (a large lycée: 8,000 rows) per class.

Revision ID: dashboard0001
Revises: school0001
"""
from alembic import op


revision = "dashboard0001"
down_revision = "school0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_accounts_school_class", "accounts", ["school_id", "class_name"])


def downgrade() -> None:
    op.drop_index("ix_accounts_school_class", table_name="accounts")
