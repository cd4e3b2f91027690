"""Audit rows carry the request id of the request that wrote them (issue 16), the same id
as the JSON log lines and the X-Request-Id response header.

Revision ID: ops0001
Revises: bb73f07ac99c
"""
from alembic import op
import sqlalchemy as sa

revision = "ops0001"
down_revision = "bb73f07ac99c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("request_id", sa.String(length=128), nullable=True))
    op.create_index("ix_audit_events_request_id", "audit_events", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_request_id", table_name="audit_events")
    op.drop_column("audit_events", "request_id")
