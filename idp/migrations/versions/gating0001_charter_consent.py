"""Gating before consent: charter versions and acceptances, contact preferences, RP
notices and their acknowledgments, consents; OIDC clients trusted for the school.

Revision ID: gating0001
Revises: bb73f07ac99c
"""
from alembic import op
import sqlalchemy as sa


revision = "gating0001"
down_revision = "bb73f07ac99c"
branch_labels = None
depends_on = None

RP_KEY = sa.String(length=520)


def upgrade() -> None:
    op.create_table(
        "charter_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audience", RP_KEY, nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("source_path", sa.String(length=500), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_versions")),
        sa.UniqueConstraint("audience", "version", name=op.f("uq_charter_versions_audience")),
    )
    op.create_index("ix_charter_versions_audience_published", "charter_versions",
                    ["audience", "published_at"])

    op.create_table(
        "charter_acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("charter_version_id", sa.Integer(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_charter_acceptances_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["charter_version_id"], ["charter_versions.id"], ondelete="CASCADE",
            name=op.f("fk_charter_acceptances_charter_version_id_charter_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_acceptances")),
        sa.UniqueConstraint("account_id", "charter_version_id",
                            name=op.f("uq_charter_acceptances_account_id")),
    )
    op.create_index(op.f("ix_charter_acceptances_account_id"), "charter_acceptances",
                    ["account_id"])
    op.create_index(op.f("ix_charter_acceptances_charter_version_id"), "charter_acceptances",
                    ["charter_version_id"])

    op.create_table(
        "contact_preferences",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("notify_region", sa.Boolean(), nullable=False),
        sa.Column("notify_department", sa.Boolean(), nullable=False),
        sa.Column("notify_academy", sa.Boolean(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_contact_preferences_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_contact_preferences")),
    )

    op.create_table(
        "rp_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rp_key", RP_KEY, nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rp_notices")),
        sa.UniqueConstraint("rp_key", "version", name=op.f("uq_rp_notices_rp_key")),
    )
    op.create_index("ix_rp_notices_rp_key_published", "rp_notices",
                    ["rp_key", "published_at"])

    op.create_table(
        "rp_notice_acknowledgments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], ondelete="CASCADE",
            name=op.f("fk_rp_notice_acknowledgments_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["rp_notices.id"], ondelete="CASCADE",
            name=op.f("fk_rp_notice_acknowledgments_notice_id_rp_notices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rp_notice_acknowledgments")),
        sa.UniqueConstraint("account_id", "notice_id",
                            name=op.f("uq_rp_notice_acknowledgments_account_id")),
    )
    op.create_index(op.f("ix_rp_notice_acknowledgments_account_id"),
                    "rp_notice_acknowledgments", ["account_id"])
    op.create_index(op.f("ix_rp_notice_acknowledgments_notice_id"),
                    "rp_notice_acknowledgments", ["notice_id"])

    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("rp_key", RP_KEY, nullable=False),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_consents_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(op.f("ix_consents_account_id"), "consents", ["account_id"])
    op.create_index("ix_consents_account_rp", "consents", ["account_id", "rp_key"])

    with op.batch_alter_table("oidc_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trusted_for_school", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("oidc_clients", schema=None) as batch_op:
        batch_op.drop_column("trusted_for_school")
    op.drop_index("ix_consents_account_rp", table_name="consents")
    op.drop_index(op.f("ix_consents_account_id"), table_name="consents")
    op.drop_table("consents")
    op.drop_index(op.f("ix_rp_notice_acknowledgments_notice_id"),
                  table_name="rp_notice_acknowledgments")
    op.drop_index(op.f("ix_rp_notice_acknowledgments_account_id"),
                  table_name="rp_notice_acknowledgments")
    op.drop_table("rp_notice_acknowledgments")
    op.drop_index("ix_rp_notices_rp_key_published", table_name="rp_notices")
    op.drop_table("rp_notices")
    op.drop_table("contact_preferences")
    op.drop_index(op.f("ix_charter_acceptances_charter_version_id"),
                  table_name="charter_acceptances")
    op.drop_index(op.f("ix_charter_acceptances_account_id"), table_name="charter_acceptances")
    op.drop_table("charter_acceptances")
    op.drop_index("ix_charter_versions_audience_published", table_name="charter_versions")
    op.drop_table("charter_versions")
