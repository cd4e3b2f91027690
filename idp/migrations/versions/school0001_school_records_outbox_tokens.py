"""School records, roster imports, account lifecycle columns, link tokens, outbox

Revision ID: school0001
Revises: bb73f07ac99c
"""
from alembic import op
import sqlalchemy as sa


revision = "school0001"
down_revision = "bb73f07ac99c"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identifier_stem", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("provisional_password_hash", sa.String(length=100),
                                      nullable=True))
        for name in ("issued_at", "activation_deadline", "activated_at", "deactivated_at",
                     "reminder_sent_at"):
            batch_op.add_column(sa.Column(name, TZ, nullable=True))
        batch_op.add_column(sa.Column("birth_date_failures", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.create_index("ix_accounts_identifier_stem", ["identifier_stem"], unique=False)
        batch_op.create_index("ix_accounts_state_deadline", ["state", "activation_deadline"],
                              unique=False)
        batch_op.create_index("ix_accounts_state_issued", ["state", "issued_at"], unique=False)

    # Existing accounts: the stem is the identifier without its trailing digits.
    conn = op.get_bind()
    accounts = sa.table("accounts", sa.column("id", sa.Integer),
                        sa.column("identifier", sa.String),
                        sa.column("identifier_stem", sa.String))
    rows = conn.execute(sa.select(accounts.c.id, accounts.c.identifier)).all()
    if rows:
        conn.execute(accounts.update().where(accounts.c.id == sa.bindparam("b_id"))
                     .values(identifier_stem=sa.bindparam("b_stem")),
                     [{"b_id": r.id, "b_stem": r.identifier.rstrip("0123456789")} for r in rows])

    op.create_table(
        "pupil_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("national_id", sa.String(length=11), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("class_name", sa.String(length=32), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_pupil_records_school_id_schools")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="SET NULL",
                                name=op.f("fk_pupil_records_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pupil_records")),
        sa.UniqueConstraint("national_id", name=op.f("uq_pupil_records_national_id")),
        sa.UniqueConstraint("account_id", name=op.f("uq_pupil_records_account_id")),
    )
    with op.batch_alter_table("pupil_records", schema=None) as batch_op:
        batch_op.create_index("ix_pupil_records_school_id", ["school_id"], unique=False)
        batch_op.create_index("ix_pupil_records_class_name", ["class_name"], unique=False)

    op.create_table(
        "representative_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("academy_code", sa.String(length=32), nullable=False),
        sa.Column("match_key", sa.String(length=200), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="SET NULL",
                                name=op.f("fk_representative_records_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_representative_records")),
        sa.UniqueConstraint("academy_code", "match_key",
                            name=op.f("uq_representative_records_academy_code")),
        sa.UniqueConstraint("account_id", name=op.f("uq_representative_records_account_id")),
    )
    with op.batch_alter_table("representative_records", schema=None) as batch_op:
        batch_op.create_index("ix_representative_records_phone", ["phone"], unique=False)

    op.create_table(
        "record_guardian_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pupil_record_id", sa.Integer(), nullable=False),
        sa.Column("representative_record_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["pupil_record_id"], ["pupil_records.id"], ondelete="CASCADE",
                                name=op.f("fk_record_guardian_links_pupil_record_id_pupil_records")),
        sa.ForeignKeyConstraint(
            ["representative_record_id"], ["representative_records.id"], ondelete="CASCADE",
            name=op.f("fk_record_guardian_links_representative_record_id_representative_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_guardian_links")),
        sa.UniqueConstraint("pupil_record_id", "representative_record_id",
                            name=op.f("uq_record_guardian_links_pupil_record_id")),
    )
    with op.batch_alter_table("record_guardian_links", schema=None) as batch_op:
        batch_op.create_index("ix_record_guardian_links_pupil_record_id", ["pupil_record_id"],
                              unique=False)
        batch_op.create_index("ix_record_guardian_links_representative_record_id",
                              ["representative_record_id"], unique=False)

    op.create_table(
        "roster_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_roster_imports_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_imports")),
    )
    with op.batch_alter_table("roster_imports", schema=None) as batch_op:
        batch_op.create_index("ix_roster_imports_school_at", ["school_id", "created_at"],
                              unique=False)

    op.create_table(
        "one_time_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_one_time_tokens_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_one_time_tokens_token_hash")),
    )
    with op.batch_alter_table("one_time_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_one_time_tokens_account_purpose", ["account_id", "purpose"],
                              unique=False)
        batch_op.create_index("ix_one_time_tokens_expires_at", ["expires_at"], unique=False)

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("sent_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_messages_due", ["status", "next_attempt_at"],
                              unique=False)
        batch_op.create_index("ix_outbox_messages_recipient", ["recipient"], unique=False)
        batch_op.create_index("ix_outbox_messages_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("outbox_messages")
    op.drop_table("one_time_tokens")
    op.drop_table("roster_imports")
    op.drop_table("record_guardian_links")
    op.drop_table("representative_records")
    op.drop_table("pupil_records")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_state_issued")
        batch_op.drop_index("ix_accounts_state_deadline")
        batch_op.drop_index("ix_accounts_identifier_stem")
        for name in ("birth_date_failures", "reminder_sent_at", "deactivated_at",
                     "activated_at", "activation_deadline", "issued_at",
                     "provisional_password_hash", "identifier_stem"):
            batch_op.drop_column(name)
