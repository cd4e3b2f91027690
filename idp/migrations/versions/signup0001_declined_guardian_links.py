"""Self-registration (J4): declined guardian links

Revision ID: signup0001
Revises: bb73f07ac99c
"""
from alembic import op
import sqlalchemy as sa


revision = "signup0001"
down_revision = "bb73f07ac99c"
branch_labels = None
depends_on = ("school0001",)  # representative and pupil records

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "declined_guardian_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("representative_record_id", sa.Integer(), nullable=False),
        sa.Column("pupil_record_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("declined_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["representative_record_id"], ["representative_records.id"], ondelete="CASCADE",
            name=op.f("fk_declined_guardian_links_representative")),
        sa.ForeignKeyConstraint(
            ["pupil_record_id"], ["pupil_records.id"], ondelete="CASCADE",
            name=op.f("fk_declined_guardian_links_pupil_record_id_pupil_records")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_declined_guardian_links_school_id_schools")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="SET NULL",
                                name=op.f("fk_declined_guardian_links_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declined_guardian_links")),
        sa.UniqueConstraint("representative_record_id", "pupil_record_id",
                            name=op.f("uq_declined_guardian_links_representative_record_id")),
    )
    with op.batch_alter_table("declined_guardian_links", schema=None) as batch_op:
        for column in ("representative_record_id", "pupil_record_id", "school_id",
                       "account_id"):
            batch_op.create_index(f"ix_declined_guardian_links_{column}", [column],
                                  unique=False)


def downgrade() -> None:
    op.drop_table("declined_guardian_links")
