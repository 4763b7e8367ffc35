"""The lasting state of Mend. Every row is scoped by `scope` ("slack:T123", "teams:<tenant>", "console:local")
so that one workspace or tenant never sees another's data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always returns timezone-aware UTC datetimes (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Recovery(Base):
    __tablename__ = "recoveries"
    __table_args__ = (
        UniqueConstraint("scope", "ref_no", name="uq_recovery_ref"),
        Index("ix_recovery_channel", "scope", "channel", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(200))
    ref_no: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(200))
    channel_name: Mapped[str | None] = mapped_column(String(200))
    what: Mapped[str] = mapped_column(Text)
    original_deadline: Mapped[date | None] = mapped_column(Date)
    new_deadline: Mapped[date | None] = mapped_column(Date)
    impact: Mapped[str | None] = mapped_column(Text)  # what the miss means for the people affected
    remedy: Mapped[str | None] = mapped_column(Text)
    cause_category: Mapped[str | None] = mapped_column(String(50))
    cause_note: Mapped[str | None] = mapped_column(Text)
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_by_name: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime]
    lead: Mapped[str] = mapped_column(String(200))
    lead_name: Mapped[str | None] = mapped_column(String(200))
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[str] = mapped_column(String(20), default="open")
    current_step: Mapped[str] = mapped_column(String(64))
    next_update_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(200))

    steps: Mapped[list[StepState]] = relationship(back_populates="recovery", order_by="StepState.position")
    affected: Mapped[list[AffectedGroup]] = relationship(back_populates="recovery", order_by="AffectedGroup.id")
    outreach: Mapped[list[Outreach]] = relationship(back_populates="recovery", order_by="Outreach.id")
    actions: Mapped[list[Action]] = relationship(back_populates="recovery", order_by="Action.ref_no")
    wins: Mapped[list[Win]] = relationship(back_populates="recovery", order_by="Win.id")
    feedback: Mapped[list[Feedback]] = relationship(back_populates="recovery", order_by="Feedback.id")
    retro: Mapped[list[RetroAnswer]] = relationship(back_populates="recovery", order_by="RetroAnswer.id")
    events: Mapped[list[Event]] = relationship(back_populates="recovery", order_by="Event.id")
    people: Mapped[list[AffectedPerson]] = relationship(
        back_populates="recovery", order_by="(AffectedPerson.audience, AffectedPerson.number)",
        cascade="all, delete-orphan",
    )

    @property
    def ref(self) -> str:
        return f"R{self.ref_no}"


class StepState(Base):
    __tablename__ = "step_states"
    __table_args__ = (UniqueConstraint("recovery_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recovery_id: Mapped[int] = mapped_column(ForeignKey("recoveries.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, current, done
    completed_at: Mapped[datetime | None]

    recovery: Mapped[Recovery] = relationship(back_populates="steps")


class AffectedGroup(Base):
    """How many people of one audience a miss touched. People are counted, never named."""

    __tablename__ = "affected_groups"
    __table_args__ = (UniqueConstraint("recovery_id", "audience"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recovery_id: Mapped[int] = mapped_column(ForeignKey("recoveries.id", ondelete="CASCADE"), index=True)
    audience: Mapped[str] = mapped_column(String(30))
    count: Mapped[int] = mapped_column(Integer)

    recovery: Mapped[Recovery] = relationship(back_populates="affected")


class AffectedPerson(Base):
    """One person affected, known only by pseudonym (`Patient 3`): how and whether they were reached."""

    __tablename__ = "affected_people"
    __table_args__ = (UniqueConstraint("recovery_id", "audience", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recovery_id: Mapped[int] = mapped_column(ForeignKey("recoveries.id", ondelete="CASCADE"), index=True)
    audience: Mapped[str] = mapped_column(String(30))
    number: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(10), default="en")
    channel: Mapped[str | None] = mapped_column(String(20))  # phone, letter, email, portal, in-person
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reached: Mapped[bool] = mapped_column(Boolean, default=False)
    reached_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    next_update_on: Mapped[date | None] = mapped_column(Date)

    recovery: Mapped[Recovery] = relationship(back_populates="people")


class Outreach(Base):
    __tablename__ = "outreach"

    id: Mapped[int] = mapped_column(primary_key=True)
    recovery_id: Mapped[int] = mapped_column(ForeignKey("recoveries.id", ondelete="CASCADE"), index=True)
    audience: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(20), default="draft")  # draft (first message) or update
    language: Mapped[str] = mapped_column(String(10), default="en")
    body: Mapped[str] = mapped_column(Text)
    drafted_by: Mapped[str] = mapped_column(String(200))
    drafted_at: Mapped[datetime]
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]
    sent_by: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
    next_update_at: Mapped[datetime | None]

    recovery: Mapped[Recovery] = relationship(back_populates="outreach")


class Action(Base):
    __tablename__ = "actions"
    __table_args__ = (UniqueConstraint("scope", "ref_no", name="uq_action_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(200))
    ref_no: Mapped[int] = mapped_column(Integer)
    recovery_id: Mapped[int] = mapped_column(ForeignKey("recoveries.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    owner_name: Mapped[str | None] = mapped_column(String(200))
    due: Mapped[date] = mapped_column(Date)
    tz: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, done
    last_checkin: Mapped[str | None] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]

    recovery: Mapped[Recovery] = relationship(back_populates="actions")
    checkins: Mapped[list[Checkin]] = relationship(back_populates="action", order_by="Checkin.id")

    @property
    def ref(self) -> str:
        return f"A{self.ref_no}"


class Checkin(Base):
    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    by_user: Mapped[str] = mapped_column(String(200))
    by_name: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime]

    action: Mapped[Action] = relationship(back_populates="checkins")


class Win(Base):
    __tablename__ = "wins"

    id: Mapped[int] = mapped_column(primary_key=True)
    recovery_id: Mapped[int] = mapped_column(ForeignKey("recoveries.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    by_user: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]

    recovery: Mapped[Recovery] = relationship(back_populates="wins")


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    recovery_id: Mapped[int] = mapped_column(ForeignKey("recoveries.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    by_user: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]

    recovery: Mapped[Recovery] = relationship(back_populates="feedback")


class RetroAnswer(Base):
    __tablename__ = "retro_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    recovery_id: Mapped[int] = mapped_column(ForeignKey("recoveries.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(Text)
    by_user: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]

    recovery: Mapped[Recovery] = relationship(back_populates="retro")


class Event(Base):
    """The timeline: who did what, when. Written in the same transaction as the change it records."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(200))
    recovery_id: Mapped[int | None] = mapped_column(ForeignKey("recoveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)

    recovery: Mapped[Recovery | None] = relationship(back_populates="events")


class Schedule(Base):
    """A recurring or one-off thing to deliver: a check-in cadence, a channel standup."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))  # checkin, standup
    channel: Mapped[str] = mapped_column(String(200))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    cadence: Mapped[str] = mapped_column(String(100))  # as typed, normalised: "daily at 09:00"
    tz: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Delivery(Base):
    """One message due at one time. The scheduler's truth: claimed with a lease, marked sent once."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_delivery_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))  # checkin, standup, update_due
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"), index=True)
    recovery_id: Mapped[int | None] = mapped_column(ForeignKey("recoveries.id", ondelete="CASCADE"), index=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(200))
    to_user: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending claimed sent failed cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(200))


class Person(Base):
    """What the adapters told us about a user: a display name and a time zone."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("scope", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    tz: Mapped[str | None] = mapped_column(String(64))


class ConversationRef(Base):
    """A Teams conversation reference, kept so proactive messages survive restarts."""

    __tablename__ = "conversation_refs"
    __table_args__ = (UniqueConstraint("scope", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(300))
    reference: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class ProcessedEvent(Base):
    """Claims on things applied once, even across restarts: Slack event ids (a redelivery is not applied
    twice) and check-in card presses from Slack and Teams (a second press records nothing)."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    scope: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
