"""Staff accounts of the administration console (operators, school staff, auditors) and
the schools assigned to school staff.

Revision ID: admin0001
Revises: bb73f07ac99c
"""
from alembic import op
import sqlalchemy as sa


revision = "admin0001"
down_revision = "bb73f07ac99c"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.Enum("operator", "school_staff", "auditor", name="staffrole",
                                  native_enum=False, length=20), nullable=False),
        sa.Column("totp_secret_sealed", sa.String(length=255), nullable=True),
        sa.Column("totp_enrolled_at", TZ, nullable=True),
        sa.Column("recovery_code_hashes", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_sign_in_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
        sa.UniqueConstraint("identifier", name=op.f("uq_staff_accounts_identifier")),
    )
    op.create_table(
        "staff_schools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_staff_schools_staff_id_staff_accounts")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], ondelete="CASCADE",
                                name=op.f("fk_staff_schools_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_schools")),
        sa.UniqueConstraint("staff_id", "school_id", name=op.f("uq_staff_schools_staff_id")),
    )
    op.create_index(op.f("ix_staff_schools_staff_id"), "staff_schools", ["staff_id"])
    op.create_index(op.f("ix_staff_schools_school_id"), "staff_schools", ["school_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_schools_school_id"), table_name="staff_schools")
    op.drop_index(op.f("ix_staff_schools_staff_id"), table_name="staff_schools")
    op.drop_table("staff_schools")
    op.drop_table("staff_accounts")
