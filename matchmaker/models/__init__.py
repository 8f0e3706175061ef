"""SQLAlchemy 2.x mapped classes, one module per domain, all re-exported: `from matchmaker.models import X`.

Importing the package imports every module, so Base.metadata holds every table (Alembic and the tests read it).
"""

# Not alphabetical: the modules are imported in the order their tables were first declared, so the metadata lists
# the tables in the same order as when they were one module.
from matchmaker.models.base import NAMING, Base, ModeSet, Money, Timestamped, UTCDateTime  # noqa: I001
from matchmaker.models.identity import AccountToken, Broker, Organisation, OutboundMail, Region, TechnologyField, User
from matchmaker.models.libraries import Achievement, Demand, IPRecord, LatentFit, World
from matchmaker.models.brokerage import (
    PIPELINE_LIVE,
    Contract,
    ContractDocument,
    Feedback,
    Pipeline,
    PipelineEvent,
    RegistrationSequence,
)
from matchmaker.models.platform import (
    Embedding,
    IdempotencyRecord,
    Impression,
    InboxEntry,
    IndexChange,
    SimulationRequest,
    SimulationRun,
    Subscription,
    SubscriptionNotice,
)
from matchmaker.models.security import AuditEntry, ConfidentialGrant, LoginAttempt, WebSession
from matchmaker.models.deals import Introduction, Notice, NoticePreference, ThreadMessage, Undertaking
from matchmaker.models.after_signing import ContractPayment, ProceedsShare, RoyaltyReport
from matchmaker.models.trading import Auction, AuctionBidder, Bid, Listing, Objection, PriceNotice
from matchmaker.models.evaluations import EvaluationReport
from matchmaker.models.challenges import (
    Challenge,
    ConflictDeclaration,
    Milestone,
    PanelMember,
    Proposal,
    ProposalAttachment,
    ProposalScore,
)

__all__ = [
    "EvaluationReport",
    "Challenge",
    "ConflictDeclaration",
    "Milestone",
    "PanelMember",
    "Proposal",
    "ProposalAttachment",
    "ProposalScore",
    "Auction",
    "AuctionBidder",
    "Bid",
    "Objection",
    "PriceNotice",
    "Listing",
    "ContractPayment",
    "ProceedsShare",
    "RoyaltyReport",
    "RegistrationSequence",
    "AccountToken",
    "OutboundMail",
    "Introduction",
    "Notice",
    "NoticePreference",
    "ThreadMessage",
    "Undertaking",
    "NAMING",
    "PIPELINE_LIVE",
    "Achievement",
    "AuditEntry",
    "ConfidentialGrant",
    "Base",
    "Broker",
    "Contract",
    "ContractDocument",
    "Demand",
    "Embedding",
    "Feedback",
    "IPRecord",
    "IdempotencyRecord",
    "Impression",
    "InboxEntry",
    "IndexChange",
    "LatentFit",
    "LoginAttempt",
    "ModeSet",
    "Money",
    "Organisation",
    "Pipeline",
    "PipelineEvent",
    "Region",
    "SimulationRequest",
    "SimulationRun",
    "Subscription",
    "SubscriptionNotice",
    "TechnologyField",
    "Timestamped",
    "UTCDateTime",
    "User",
    "WebSession",
    "World",
]
