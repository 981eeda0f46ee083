"""initial schema: suggestions, problems, append-only events

Revision ID: 0001
Revises:
Create Date: 2026-11-26

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APPEND_ONLY = ("events", "problems")  # rows that may be inserted, never changed or deleted


def upgrade() -> None:
    op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lead_agency", sa.String(length=200), nullable=True),
        sa.Column("co_organisers", sa.JSON(), nullable=False),
        sa.Column("deputies", sa.JSON(), nullable=False),
        sa.Column("deputy_group", sa.String(length=200), nullable=True),
        sa.Column("supervision", sa.String(length=8), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("raised_on", sa.Date(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("satisfaction", sa.String(length=24), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("look_backs", sa.Integer(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('suggestion', 'motion')", name=op.f("ck_suggestions_kind")),
        sa.CheckConstraint("satisfaction IS NULL OR satisfaction IN ('satisfied', 'basically_satisfied', "
                           "'dissatisfied')", name=op.f("ck_suggestions_satisfaction")),
        sa.CheckConstraint("status IN ('draft', 'assigned', 'in_progress', 'answered', 'closed', 'look_back')",
                           name=op.f("ck_suggestions_status")),
        sa.CheckConstraint("supervision IN ('all', 'group')", name=op.f("ck_suggestions_supervision")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_suggestions_version")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestions")),
        sa.UniqueConstraint("code", name=op.f("uq_suggestions_code")),
        sa.UniqueConstraint("kind", "year", "seq", name="uq_suggestions_kind_year_seq"),
    )
    for column in ("category", "deadline", "lead_agency", "status", "tier"):
        op.create_index(op.f(f"ix_suggestions_{column}"), "suggestions", [column], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("status_from", sa.String(length=16), nullable=True),
        sa.Column("status_to", sa.String(length=16), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["suggestion_id"], ["suggestions.id"], name=op.f("fk_events_suggestion_id_suggestions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("suggestion_id", "version", name="uq_events_suggestion_id_version"),
    )
    op.create_index(op.f("ix_events_suggestion_id"), "events", ["suggestion_id"], unique=False)

    op.create_table(
        "problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("problem_ref", sa.String(length=120), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("tier", sa.String(length=32), nullable=True),
        sa.Column("enterprises", sa.JSON(), nullable=False),
        sa.Column("opinion_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["suggestion_id"], ["suggestions.id"], name=op.f("fk_problems_suggestion_id_suggestions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problems")),
    )
    op.create_index(op.f("ix_problems_suggestion_id"), "problems", ["suggestion_id"], unique=False)
    _append_only_triggers()


def _append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_append_only_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END")
    elif dialect == "postgresql":
        op.execute("CREATE FUNCTION register_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   "BEGIN RAISE EXCEPTION '% are append-only', TG_TABLE_NAME; END $$")
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION register_append_only()")
    # other databases: the ORM still refuses to change or delete an event


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_{verb}")
    elif dialect == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS register_append_only()")
    op.drop_index(op.f("ix_problems_suggestion_id"), table_name="problems")
    op.drop_table("problems")
    op.drop_index(op.f("ix_events_suggestion_id"), table_name="events")
    op.drop_table("events")
    for column in ("category", "deadline", "lead_agency", "status", "tier"):
        op.drop_index(op.f(f"ix_suggestions_{column}"), table_name="suggestions")
    op.drop_table("suggestions")
