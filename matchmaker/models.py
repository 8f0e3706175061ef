"""SQLAlchemy 2.x mapped classes: reference data, organisations, people and the two libraries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from matchmaker import vocabulary as v

# Stable constraint names so migrations and models agree on both SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(16, 2)  # yuan; never floats for money


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ModeSet(TypeDecorator):
    """A set of TransferMode values stored as a bit mask (filterable with & in SQL on both databases)."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or isinstance(value, int):
            return value
        return v.modes_to_mask(value)

    def process_result_value(self, value, dialect):
        return None if value is None else v.mask_to_modes(value)


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python, on both databases.

    SQLite stores DateTime(timezone=True) values without an offset and hands them back naive; the API must send
    RFC 3339 date-times (with an offset), so values are converted to UTC on the way in and read back as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _one_of(column: str, enum) -> str:
    allowed = ", ".join(f"'{value}'" for value in v.values(enum))
    return f"{column} IN ({allowed})"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_utcnow, onupdate=_utcnow)


class Region(Base):
    """A GB/T 2260 administrative division (province, city or county)."""

    __tablename__ = "regions"
    __table_args__ = (CheckConstraint("level IN ('province', 'city', 'county')", name="level"),)

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)


class TechnologyField(Base):
    """A technology field from seeds/fields (新能源, 新材料, …)."""

    __tablename__ = "technology_fields"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))


class Organisation(Timestamped, Base):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(_one_of("kind", v.OrganisationKind), name="kind"),
        CheckConstraint(_one_of("size", v.FirmSize), name="size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    size: Mapped[str | None] = mapped_column(String(10))
    high_tech: Mapped[bool] = mapped_column(default=False)  # 高新技术企业
    industry: Mapped[str | None] = mapped_column(String(60))


class User(Timestamped, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_one_of("role", v.Role), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(10))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # sha256 hex; the token itself is never stored
    password_hash: Mapped[str | None] = mapped_column(String(200))  # scrypt, salted; null = API token only, no page login
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Broker(Timestamped, Base):
    """A 技术经纪人; the credit score is computed from outcomes, so it is not a column."""

    __tablename__ = "brokers"
    __table_args__ = (CheckConstraint(_one_of("level", v.BrokerLevel), name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    level: Mapped[str] = mapped_column(String(15))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    certified_on: Mapped[dt.date | None] = mapped_column(Date)


class Achievement(Timestamped, Base):
    """A 科技成果 posted by a university or institute office."""

    __tablename__ = "achievements"
    __table_args__ = (
        CheckConstraint("trl BETWEEN 1 AND 9", name="trl"),
        CheckConstraint("asking_price >= 0", name="asking_price"),
        CheckConstraint(f"transfer_modes BETWEEN 0 AND {v.ALL_MODES_MASK}", name="transfer_modes"),
        CheckConstraint(_one_of("pricing_mode", v.PricingMode), name="pricing_mode"),
        CheckConstraint(_one_of("status", v.AchievementStatus), name="status"),
        Index("ix_achievements_status_field", "status", "field_code"),
        Index("ix_achievements_status_expires", "status", "expires_on"),  # expiry sweep runs before every read
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    confidential_detail: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(String(500), default="")
    team: Mapped[str | None] = mapped_column(String(200))
    field_code: Mapped[str | None] = mapped_column(ForeignKey("technology_fields.code"))
    trl: Mapped[int | None] = mapped_column(SmallInteger, index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    transfer_modes: Mapped[frozenset[str]] = mapped_column(ModeSet, default=0)
    pricing_mode: Mapped[str | None] = mapped_column(String(12))
    asking_price: Mapped[Decimal | None] = mapped_column(Money)
    use_first_pay_later: Mapped[bool] = mapped_column(default=False)  # 先使用后付费
    status: Mapped[str] = mapped_column(String(16), default=v.AchievementStatus.DRAFT.value)
    posted_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    review_note: Mapped[str | None] = mapped_column(Text)  # the reviewer's last rejection note; cleared on approval

    ip_records: Mapped[list[IPRecord]] = relationship(
        back_populates="achievement", cascade="all, delete-orphan", order_by="IPRecord.id"
    )


class IPRecord(Base):
    """A patent, software copyright or other IP right behind an achievement."""

    __tablename__ = "ip_records"
    __table_args__ = (
        CheckConstraint(_one_of("ip_type", v.IPType), name="ip_type"),
        CheckConstraint(_one_of("status", v.IPStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"), index=True)
    ip_type: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default=v.IPStatus.GRANTED.value)

    achievement: Mapped[Achievement] = relationship(back_populates="ip_records")


class Demand(Timestamped, Base):
    """A 企业技术需求 posted by a firm; a challenge (揭榜挂帅) carries a bounty."""

    __tablename__ = "demands"
    __table_args__ = (
        CheckConstraint("min_trl BETWEEN 1 AND 9", name="min_trl"),
        CheckConstraint("budget_min >= 0", name="budget_min"),
        CheckConstraint("budget_max >= 0", name="budget_max"),
        CheckConstraint("budget_min <= budget_max", name="budget_range"),
        CheckConstraint("bounty >= 0", name="bounty"),
        CheckConstraint(f"cooperation_modes BETWEEN 0 AND {v.ALL_MODES_MASK}", name="cooperation_modes"),
        CheckConstraint(_one_of("status", v.DemandStatus), name="status"),
        Index("ix_demands_status_field", "status", "field_code"),
        Index("ix_demands_status_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    problem: Mapped[str] = mapped_column(Text, default="")  # 拟解决的技术难题
    targets: Mapped[str] = mapped_column(Text, default="")  # 预期目标
    conditions: Mapped[str] = mapped_column(Text, default="")  # 现有基础
    field_code: Mapped[str | None] = mapped_column(ForeignKey("technology_fields.code"))
    min_trl: Mapped[int | None] = mapped_column(SmallInteger)
    budget_min: Mapped[Decimal | None] = mapped_column(Money)
    budget_max: Mapped[Decimal | None] = mapped_column(Money)
    cooperation_modes: Mapped[frozenset[str]] = mapped_column(ModeSet, default=0)
    is_challenge: Mapped[bool] = mapped_column(default=False)
    bounty: Mapped[Decimal | None] = mapped_column(Money)
    deadline: Mapped[dt.date | None] = mapped_column(Date, index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=v.DemandStatus.DRAFT.value)
    posted_on: Mapped[dt.date | None] = mapped_column(Date)
    review_note: Mapped[str | None] = mapped_column(Text)  # the reviewer's last rejection note; cleared on approval


class LatentFit(Base):
    """The synthetic world's ground truth: how well an achievement answers a demand (4 strong … 1 unrelated)."""

    __tablename__ = "latent_fits"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 4", name="level"),)

    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"), primary_key=True)
    achievement_id: Mapped[int] = mapped_column(
        ForeignKey("achievements.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: Mapped[int] = mapped_column(SmallInteger)


class World(Base):
    """One generated world (scale + seed); its row makes `matchmaker seed` idempotent."""

    __tablename__ = "worlds"
    __table_args__ = (UniqueConstraint("scale", "seed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scale: Mapped[str] = mapped_column(String(20))
    seed: Mapped[int] = mapped_column(Integer)
    generator_version: Mapped[str] = mapped_column(String(20))
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), server_default=func.now())


PIPELINE_LIVE = f"stage NOT IN ({', '.join(repr(s.value) for s in v.ENDED_WITHOUT_CONTRACT)})"


class Pipeline(Timestamped, Base):
    """A broker's claim on a (demand, achievement) match, moved stage by stage to a contract or an end."""

    __tablename__ = "pipelines"
    __table_args__ = (
        CheckConstraint(_one_of("stage", v.PipelineStage), name="stage"),
        # One live or signed pipeline per pair; a declined or lapsed pair may be claimed again later.
        Index("uq_pipelines_live_pair", "demand_id", "achievement_id", unique=True,
              sqlite_where=text(PIPELINE_LIVE), postgresql_where=text(PIPELINE_LIVE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), index=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), index=True)
    broker_id: Mapped[int] = mapped_column(ForeignKey("brokers.id"), index=True)
    stage: Mapped[str] = mapped_column(String(12), default=v.PipelineStage.CLAIMED.value, index=True)
    score: Mapped[float | None] = mapped_column(Float)  # the match score when claimed
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock: a move names the version it saw

    events: Mapped[list[PipelineEvent]] = relationship(order_by="PipelineEvent.id", cascade="all, delete-orphan")


class PipelineEvent(Base):
    """One move of a pipeline: who, when, from which stage to which, and why."""

    __tablename__ = "pipeline_events"
    __table_args__ = (
        CheckConstraint(_one_of("to_stage", v.PipelineStage), name="to_stage"),
        CheckConstraint(_one_of("from_stage", v.PipelineStage), name="from_stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(12))
    to_stage: Mapped[str] = mapped_column(String(12))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_utcnow)


class Contract(Timestamped, Base):
    """A 技术合同 as the registration form records it."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint(_one_of("contract_type", v.ContractType), name="contract_type"),
        CheckConstraint(_one_of("payment_mode", v.PaymentMode), name="payment_mode"),
        CheckConstraint("amount >= 0", name="amount"),
        CheckConstraint("certified_amount >= 0 AND certified_amount <= amount", name="certified_amount"),
        CheckConstraint(
            "payment_mode <> 'use_first_pay_later' OR trial_ends_on IS NOT NULL", name="trial_end_for_use_first"
        ),
        CheckConstraint(_one_of("licence_scope", v.LicenceScope), name="licence_scope"),
        CheckConstraint("licence_scope IS NULL OR contract_type = 'licence'", name="licence_scope_for_licence"),
        Index("ix_contracts_signed_on", "signed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int | None] = mapped_column(ForeignKey("pipelines.id"), unique=True)
    contract_type: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Decimal] = mapped_column(Money)  # 成交额
    certified_amount: Mapped[Decimal | None] = mapped_column(Money)  # 核定技术交易额
    payment_mode: Mapped[str] = mapped_column(String(20))
    licence_scope: Mapped[str | None] = mapped_column(String(10))  # licences only: 独占 / 排他 / 普通
    trial_ends_on: Mapped[dt.date | None] = mapped_column(Date)
    signed_on: Mapped[dt.date] = mapped_column(Date)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    buyer_region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    seller_region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    achievement_id: Mapped[int | None] = mapped_column(ForeignKey("achievements.id"), index=True)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"), index=True)
    broker_id: Mapped[int | None] = mapped_column(ForeignKey("brokers.id"), index=True)
    registration_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    registered_on: Mapped[dt.date | None] = mapped_column(Date)


class Feedback(Base):
    """A firm's, office's or broker's verdict on a match: data for the matcher to learn from."""

    __tablename__ = "feedback"
    # One verdict per person per pair: a repeat replaces the earlier one (brokerage.give_feedback).
    __table_args__ = (CheckConstraint(_one_of("reason", v.FeedbackReason), name="reason"),
                      UniqueConstraint("user_id", "demand_id", "achievement_id", name="uq_feedback_user_pair"))

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), index=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    relevant: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Impression(Base):
    """A match a person was shown (or that stood in the pool it was drawn from): the log rankers learn from.

    One list shown is a slate; its pool is the logging ranker's top candidates, with `shown_rank` set for those
    shown and `propensity` the chance each had of being shown under the logging policy (exploration), so a
    candidate ranker's interest rate can be estimated offline (matching/counterfactual.py).
    """

    __tablename__ = "impressions"
    __table_args__ = (
        CheckConstraint(_one_of("surface", v.Surface), name="surface"),
        CheckConstraint(_one_of("direction", v.Library), name="direction"),
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
    shown_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_utcnow, index=True)


class Embedding(Base):
    """A published record's sentence vector (the `semantic` extra), computed by the worker, read by every process."""

    __tablename__ = "embeddings"
    __table_args__ = (CheckConstraint(_one_of("library", v.Library), name="library"),)

    library: Mapped[str] = mapped_column(String(12), primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(40))
    text_key: Mapped[str] = mapped_column(String(16))   # digest of the embedded text: stale when the text changes
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_utcnow)


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
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_utcnow)
    dismissed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Subscription(Base):
    """A standing request to be told about new postings by field, region or keywords."""

    __tablename__ = "subscriptions"
    __table_args__ = (CheckConstraint(_one_of("library", v.Library), name="library"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    library: Mapped[str] = mapped_column(String(12))
    field_code: Mapped[str | None] = mapped_column(ForeignKey("technology_fields.code"))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    keywords: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_utcnow)


class SubscriptionNotice(Base):
    """A new posting that fits one of a user's subscriptions: the user is told even without a posting of their own."""

    __tablename__ = "subscription_notices"
    __table_args__ = (
        CheckConstraint(_one_of("library", v.Library), name="library"),
        UniqueConstraint("user_id", "library", "record_id"),  # two subscriptions fitting one posting: one notice
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The notice outlives its subscription: what was pushed stays readable after the user unsubscribes.
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id", ondelete="SET NULL"))
    library: Mapped[str] = mapped_column(String(12))
    record_id: Mapped[int] = mapped_column(Integer)  # postings are never deleted, only closed, so no dangling ids
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_utcnow)
    dismissed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class IdempotencyRecord(Base):
    """The first response to a request carrying an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_records"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))  # method, path and body hash: a reused key with another body is a 422
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_utcnow)


class IndexChange(Base):
    """Change log the matcher's workers replay so every process sees the same published records."""

    __tablename__ = "index_changes"
    __table_args__ = (CheckConstraint(_one_of("library", v.Library), name="library"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    library: Mapped[str] = mapped_column(String(12))
    record_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_utcnow, index=True)


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
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_utcnow)
