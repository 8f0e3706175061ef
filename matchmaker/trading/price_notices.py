"""协议定价公示: before a negotiated-price deal for a university's or institute's achievement is signed, the
achievement, the price and the parties are published for a notice period (15 days unless set otherwise); anyone
signed in may object while it runs; the seller's office answers each objection in writing. Signing during the period,
or while an objection is unanswered, is refused (brokerage.contracts asks `check_signable`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import Conflict, Forbidden, InvalidInput, NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement, Objection, Organisation, PriceNotice
from matchmaker.notices.services import notify, organisation_users

NOTICE_DAYS = 15
PUBLIC_SELLERS = (v.OrganisationKind.UNIVERSITY.value, v.OrganisationKind.INSTITUTE.value)


def publish_notice(session: Session, *, actor: Actor, achievement_id: int, buyer_id: int, price: Decimal,
                   days: int = NOTICE_DAYS, today: dt.date | None = None) -> PriceNotice:
    today = today or dt.date.today()
    achievement = session.get(Achievement, achievement_id)
    if achievement is None:
        raise NotFound("没有找到该成果")
    if actor.role is not v.Role.OFFICE or actor.organisation_id != achievement.organisation_id:
        raise Forbidden("只有成果所属单位可以发布协议定价公示")
    seller = session.get(Organisation, achievement.organisation_id)
    if seller.kind not in PUBLIC_SELLERS:
        raise InvalidInput.on("achievement_id", "协议定价公示适用于高校和科研院所的成果")
    buyer = session.get(Organisation, buyer_id)
    if buyer is None or buyer.id == seller.id:
        raise InvalidInput.on("buyer_id", "请选择受让方单位（不能是本单位）")
    if price <= 0:
        raise InvalidInput.on("price", "协议价格须大于 0")
    if not 1 <= days <= 60:
        raise InvalidInput.on("days", "公示期为 1 到 60 天（通常 15 天）")
    return record_notice(session, achievement, buyer_id=buyer.id, price=price, starts_on=today, days=days,
                         created_by=actor.user_id)


def record_notice(session: Session, achievement: Achievement, *, buyer_id: int, price: Decimal, starts_on: dt.date,
                  days: int = NOTICE_DAYS, created_by: int | None = None) -> PriceNotice:
    """The notice row itself, once the caller has checked who may publish it (the simulator's offices and the
    seeded worlds publish without an office's session)."""
    notice = PriceNotice(achievement_id=achievement.id, seller_id=achievement.organisation_id, buyer_id=buyer_id,
                         price=price, starts_on=starts_on, ends_on=starts_on + dt.timedelta(days=days),
                         created_by=created_by)
    session.add(notice)
    session.flush()
    return notice


def lodge_objection(session: Session, *, actor: Actor, notice_id: int, reason: str,
                    today: dt.date | None = None) -> Objection:
    notice = _notice(session, notice_id)
    if (today or dt.date.today()) >= notice.ends_on:
        raise Conflict("公示期已结束，不能再提出异议")
    reason = reason.strip()
    if len(reason) < 5:
        raise InvalidInput.on("reason", "请写明异议的理由（至少 5 个字）")
    objection = Objection(notice_id=notice.id, user_id=actor.user_id, reason=reason[:2000])
    session.add(objection)
    session.flush()
    notify(session, organisation_users(session, notice.seller_id), kind=v.NoticeKind.DEAL_STAGE,
           event=f"objection:{objection.id}", title="协议定价公示收到异议，请书面答复",
           body=reason[:200], link=f"/web/price-notices/{notice.id}")
    return objection


def resolve_objection(session: Session, *, actor: Actor, objection_id: int, resolution: str) -> Objection:
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound("没有找到该异议")
    notice = _notice(session, objection.notice_id)
    if actor.role is not v.Role.OFFICE or actor.organisation_id != notice.seller_id:
        raise Forbidden("异议由成果所属单位答复")
    if objection.resolved_at is not None:
        raise Conflict("该异议已经答复")
    resolution = resolution.strip()
    if len(resolution) < 5:
        raise InvalidInput.on("resolution", "请写明处理结果（至少 5 个字）")
    objection.resolution, objection.resolved_by = resolution[:2000], actor.user_id
    objection.resolved_at = dt.datetime.now(dt.UTC)
    session.flush()
    return objection


@dataclass
class NoticeState:
    notice: PriceNotice
    objections: list[Objection]


def notice_state(session: Session, notice_id: int) -> NoticeState:
    notice = _notice(session, notice_id)
    return NoticeState(notice, list(session.scalars(select(Objection).where(Objection.notice_id == notice.id)
                                                    .order_by(Objection.id))))


def list_notices(session: Session, *, today: dt.date | None = None) -> list[PriceNotice]:
    """Notices still running, ending soonest first."""
    today = today or dt.date.today()
    return list(session.scalars(select(PriceNotice).where(PriceNotice.ends_on > today)
                                .order_by(PriceNotice.ends_on, PriceNotice.id).limit(200)))


NOTICED_TYPES = (v.ContractType.TRANSFER.value, v.ContractType.LICENCE.value)   # the achievement itself is sold
PRICED_IN_PUBLIC = (v.PricingMode.LISTED.value, v.PricingMode.AUCTION.value)


def notice_required(session: Session, achievement: Achievement, contract_type: str | None) -> bool:
    """A university's or institute's achievement transferred or licensed at a negotiated price needs a notice;
    a listed or auctioned one was priced in public already."""
    if contract_type not in NOTICED_TYPES or achievement.pricing_mode in PRICED_IN_PUBLIC:
        return False
    seller = session.get(Organisation, achievement.organisation_id) if achievement.organisation_id else None
    return seller is not None and seller.kind in PUBLIC_SELLERS


def check_signable(session: Session, *, achievement_id: int, signed_on: dt.date, buyer_id: int | None = None,
                   contract_type: str | None = None) -> None:
    """Refuse a contract on an achievement whose price notice is still running on the signing day, or has an
    objection not yet answered; and, when a notice is required, one whose notice naming this buyer has not been
    published and ended by the signing day (unless the buyer took it by listing or won it at auction)."""
    notices = session.scalars(select(PriceNotice).where(PriceNotice.achievement_id == achievement_id)).all()
    for notice in notices:
        if runs_on(notice, signed_on):
            reason = (f"该成果的协议定价正在公示（至 {notice.ends_on - dt.timedelta(days=1):%Y年%m月%d日}），"
                      "公示期结束后才能签约")
            raise Conflict.on("signed_on", reason)
        open_objection = session.scalar(select(Objection.id).where(Objection.notice_id == notice.id,
                                                                   Objection.resolved_at.is_(None)))
        if open_objection is not None:
            reason = "该成果的协议定价公示有尚未答复的异议；成果所属单位书面答复后才能签约"
            raise Conflict.on("signed_on", reason)
    achievement = session.get(Achievement, achievement_id)
    if buyer_id is None or achievement is None or not notice_required(session, achievement, contract_type):
        return
    if any(n.buyer_id == buyer_id and n.ends_on <= signed_on for n in notices) \
            or _bought_in_public(session, achievement_id, buyer_id):
        return
    reason = ("高校、科研院所的成果按协议定价转让或许可，签约前须公示：请成果所属单位在“定价公示”页面发布协议价格和受让方，"
              f"公示 {NOTICE_DAYS} 天期满、异议答复完毕后再签约")
    raise Conflict.on("signed_on", reason)


def runs_on(notice: PriceNotice, day: dt.date) -> bool:
    """The notice period holds `day`: no contract on the achievement may be signed then."""
    return notice.starts_on <= day < notice.ends_on


def _bought_in_public(session: Session, achievement_id: int, buyer_id: int) -> bool:
    from matchmaker.models import Auction, Listing

    listed = session.scalar(select(Listing.id).where(Listing.achievement_id == achievement_id,
                                                     Listing.buyer_id == buyer_id, Listing.status == "accepted"))
    won = session.scalar(select(Auction.id).where(Auction.achievement_id == achievement_id,
                                                  Auction.winner_id == buyer_id))
    return listed is not None or won is not None


def _notice(session: Session, notice_id: int) -> PriceNotice:
    notice = session.get(PriceNotice, notice_id)
    if notice is None:
        raise NotFound("没有找到该公示")
    return notice
