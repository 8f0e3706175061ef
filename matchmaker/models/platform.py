"""The platform's own tables: impressions, embeddings, pushes, subscriptions, idempotency, index changes, runs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from matchmaker import vocabulary as v
from matchmaker.models.base import Base, UTCDateTime, one_of, utcnow


class Impression(Base):
    """A match a person was shown (or that stood in the pool it was drawn from): the log rankers learn from.

    One list shown is a slate; its pool is the logging ranker's top candidates, with `shown_rank` set for those
    shown and `propensity` the chance each had of being shown under the logging policy (exploration), so a
    candidate ranker's interest rate can be estimated offline (matching/counterfactual.py).
    """

    __tablename__ = "impressions"
    __table_args__ = (
        CheckConstraint(one_of("surface", v.Surface), name="surface"),
        CheckConstraint(one_of("direction", v.Library), name="direction"),
        Index("ix_impressions_pair", "demand_id", "achievement_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slate: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    surface: Mapped[str] = mapped_column(String(8))
    direction: Mapped[str] = mapped_column(String(12))   # the library of the records ranked
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"))
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"))
    pool_rank: Mapped[int] = mapped_column(SmallInteger)
    shown_rank: Mapped[int | None] = mapped_column(SmallInteger)
    propensity: Mapped[float] = mapped_column(Float)
    team: Mapped[str | None] = mapped_column(String(1))   # interleaving: which ranker placed it (A / B)
    score: Mapped[float] = mapped_column(Float)
    ranker: Mapped[str] = mapped_column(String(80))
    features: Mapped[dict] = mapped_column(JSON, default=dict)
    shown_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Embedding(Base):
    """A published record's sentence vector (the `semantic` extra), computed by the worker, read by every process."""

    __tablename__ = "embeddings"
    __table_args__ = (CheckConstraint(one_of("library", v.Library), name="library"),)

    library: Mapped[str] = mapped_column(String(12), primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(40))
    text_key: Mapped[str] = mapped_column(String(16))   # digest of the embedded text: stale when the text changes
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InboxEntry(Base):
    """A pushed match (精准推送): the owner of an open record is told about a newly published counterpart."""

    __tablename__ = "inbox_entries"
    __table_args__ = (UniqueConstraint("organisation_id", "demand_id", "achievement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"))
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    dismissed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Subscription(Base):
    """A standing request to be told about new postings by field, region or keywords."""

    __tablename__ = "subscriptions"
    __table_args__ = (CheckConstraint(one_of("library", v.Library), name="library"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    library: Mapped[str] = mapped_column(String(12))
    field_code: Mapped[str | None] = mapped_column(ForeignKey("technology_fields.code"))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    keywords: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SubscriptionNotice(Base):
    """A new posting that fits one of a user's subscriptions: the user is told even without a posting of their own."""

    __tablename__ = "subscription_notices"
    __table_args__ = (
        CheckConstraint(one_of("library", v.Library), name="library"),
        UniqueConstraint("user_id", "library", "record_id"),  # two subscriptions fitting one posting: one notice
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The notice outlives its subscription: what was pushed stays readable after the user unsubscribes.
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id", ondelete="SET NULL"))
    library: Mapped[str] = mapped_column(String(12))
    record_id: Mapped[int] = mapped_column(Integer)  # postings are never deleted, only closed, so no dangling ids
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    dismissed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class IdempotencyRecord(Base):
    """The first response to a request carrying an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_records"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))  # method, path and body hash: a reused key with another body is a 422
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IndexChange(Base):
    """Change log the matcher's workers replay so every process sees the same published records."""

    __tablename__ = "index_changes"
    __table_args__ = (CheckConstraint(one_of("library", v.Library), name="library"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    library: Mapped[str] = mapped_column(String(12))
    record_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class SimulationRun(Base):
    """One market simulation: scenario, seed and world, with its figures, so pages can list and compare runs."""

    __tablename__ = "simulation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario: Mapped[str] = mapped_column(String(60), index=True)
    seed: Mapped[int] = mapped_column(Integer)
    world_scale: Mapped[str] = mapped_column(String(20))
    world_seed: Mapped[int] = mapped_column(Integer)
    months: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(20))  # matchmaker version that ran it
    levers: Mapped[dict] = mapped_column(JSON, default=dict)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    monthly: Mapped[list] = mapped_column(JSON, default=list)
    seconds: Mapped[float] = mapped_column(Float)
    database_path: Mapped[str | None] = mapped_column(String(500))  # the run's own world copy, for drill-down
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SimulationRequest(Base):
    """A sweep an analyst asked for on the pages, run by the job worker: queued → running → done | failed, with
    how many of its runs have finished (the page's progress)."""

    __tablename__ = "simulation_requests"
    __table_args__ = (CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scenarios: Mapped[list] = mapped_column(JSON)   # built-in scenario names
    seeds: Mapped[int] = mapped_column(Integer)
    months: Mapped[int] = mapped_column(Integer)
    world_scale: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    total_runs: Mapped[int] = mapped_column(Integer)
    done_runs: Mapped[int] = mapped_column(Integer, default=0)
    failed_runs: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
