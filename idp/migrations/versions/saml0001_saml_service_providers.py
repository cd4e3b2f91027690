"""SAML service providers

Revision ID: saml0001
Revises: bb73f07ac99c
"""
from alembic import op
import sqlalchemy as sa


revision = "saml0001"
down_revision = "bb73f07ac99c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saml_service_providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(length=500), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("metadata_xml", sa.Text(), nullable=False),
        sa.Column("metadata_source", sa.String(length=500), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("sign_mode", sa.String(length=10), nullable=False),
        sa.Column("encrypt", sa.Boolean(), nullable=False),
        sa.Column("want_authn_requests_signed", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saml_service_providers")),
    )
    with op.batch_alter_table("saml_service_providers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saml_service_providers_entity_id"), ["entity_id"],
                              unique=True)


def downgrade() -> None:
    with op.batch_alter_table("saml_service_providers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saml_service_providers_entity_id"))
    op.drop_table("saml_service_providers")
