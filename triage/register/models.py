"""The register's tables (SQLAlchemy 2 declarative models).

``suggestions``  one suggestion or motion, with its three clarities, status and answer;
                 ``version`` is the optimistic lock: every UPDATE checks and bumps it.
``problems``     the confirmed problems of a screening it was made from, keeping the
                 original opinion ids and enterprises.
``events``       the append-only history: who, when, what (one row per change, numbered by
                 the version it produced). The ORM refuses to update or delete an event,
                 and the migration adds database triggers that refuse it too.

The schema is created and upgraded by the Alembic migrations next to this module
(``triage register init``); a test checks that they produce exactly these tables.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (JSON, CheckConstraint, Date, DateTime, ForeignKey, Integer, MetaData, String, Text,
                        TypeDecorator, UniqueConstraint, event)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from triage.register.errors import RegisterError
from triage.register.states import KINDS, SATISFACTION, STATUSES, SUPERVISION

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC (portable across SQLite and PostgreSQL) and read back
    as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=dt.timezone.utc)


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Suggestion(Base):
    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # S-2025-003 (建议) or M-2025-001 (议案)
    kind: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32), index=True)
    tier: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    lead_agency: Mapped[str | None] = mapped_column(String(200), index=True)
    co_organisers: Mapped[list] = mapped_column(JSON, default=list)
    deputies: Mapped[list] = mapped_column(JSON, default=list)
    deputy_group: Mapped[str | None] = mapped_column(String(200))
    supervision: Mapped[str] = mapped_column(String(8))
    working_days: Mapped[int | None] = mapped_column(Integer)
    deadline: Mapped[dt.date | None] = mapped_column(Date, index=True)
    raised_on: Mapped[dt.date | None] = mapped_column(Date)
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    look_backs: Mapped[int] = mapped_column(Integer, default=0)
    created_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    problems: Mapped[list["Problem"]] = relationship(back_populates="suggestion", order_by="Problem.position",
                                                     cascade="save-update, merge")
    events: Mapped[list["Event"]] = relationship(back_populates="suggestion", order_by="Event.version",
                                                 cascade="save-update, merge")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("kind", "year", "seq", name="uq_suggestions_kind_year_seq"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint(_in("supervision", SUPERVISION), name="supervision"),
        CheckConstraint("satisfaction IS NULL OR " + _in("satisfaction", SATISFACTION), name="satisfaction"),
        CheckConstraint("version >= 1", name="version"),
    )


class Problem(Base):
    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    problem_ref: Mapped[str | None] = mapped_column(String(120))  # the problem's id in the screening
    source: Mapped[str | None] = mapped_column(String(300))  # file (or workbook) it came from
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(32))
    tier: Mapped[str | None] = mapped_column(String(32))
    enterprises: Mapped[list] = mapped_column(JSON, default=list)
    opinion_ids: Mapped[list] = mapped_column(JSON, default=list)

    suggestion: Mapped[Suggestion] = relationship(back_populates="problems")


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)  # the suggestion's version this change produced
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # when it was recorded
    effective_on: Mapped[dt.date] = mapped_column(Date)  # the date it happened (may be earlier)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))
    status_from: Mapped[str | None] = mapped_column(String(16))
    status_to: Mapped[str] = mapped_column(String(16))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> [old, new]
    note: Mapped[str | None] = mapped_column(Text)

    suggestion: Mapped[Suggestion] = relationship(back_populates="events")

    __table_args__ = (UniqueConstraint("suggestion_id", "version", name="uq_events_suggestion_id_version"),)


@event.listens_for(Event, "before_update")
@event.listens_for(Event, "before_delete")
def _append_only(_mapper, _connection, target):
    raise RegisterError(f"the history is append-only: event {target.id} of suggestion {target.suggestion_id} "
                        f"cannot be changed or deleted")
