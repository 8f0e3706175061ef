"""What anyone may read without logging in: published postings (no confidential detail, no personal contacts),
open challenges (揭榜挂帅), active organisations' public profiles and the addresses for the sitemap."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog.services import ListQuery, apply_filters, apply_sort, check_list_query
from matchmaker.catalog.specs import ACHIEVEMENTS, DEMANDS, PUBLISHED, LibrarySpec
from matchmaker import db
from matchmaker.errors import NotFound
from matchmaker.models import Achievement, Challenge, Demand, Organisation


def _public(spec: LibrarySpec, today: dt.date):
    """Published and not past its date (the nightly expiry may not have run yet: the public never sees stale)."""
    model, date = spec.model, spec.column(spec.date_column)
    return (model.status == PUBLISHED.value) & or_(date.is_(None), date >= today)


def published(session: Session, spec: LibrarySpec, query: ListQuery, *, today: dt.date | None = None,
              counted: bool = True) -> tuple[list, int]:
    """A page of published postings with the list filters of the pages, and how many there are (-1 uncounted;
    COUNT_CAP + 1: more than COUNT_CAP).

    Two queries, not db.paged's one with COUNT(*) OVER (): the window makes the database materialise and sort every
    match before the first row, about 35 ms for 20,000 achievements on SQLite, where the page walks the
    (status, posted_on, id) index and the count is an index-only scan, 1-3 ms each (benchmarks/speed/public_pages.py).
    """
    check_list_query(query)
    today = today or dt.date.today()
    filtered = apply_filters(select(spec.model).where(_public(spec, today)), spec, query)
    rows = list(session.scalars(apply_sort(filtered, spec, query.sort).limit(query.limit).offset(query.offset)))
    total = session.scalar(select(func.count()).select_from(
        filtered.with_only_columns(spec.model.id).limit(db.COUNT_CAP + 1).subquery())) if counted else -1
    return rows, total


def published_record(session: Session, spec: LibrarySpec, record_id: int, *, today: dt.date | None = None):
    """One published posting; anything else (a draft, a withdrawn one, a missing id) is simply not there."""
    record = session.scalar(select(spec.model).where(spec.model.id == record_id, _public(spec, today or dt.date.today())))
    if record is None:
        raise NotFound("没有找到这条信息：它可能已下架、已成交或从未公开发布")
    return record


def open_challenges(session: Session, *, limit: int = 20, offset: int = 0,
                    today: dt.date | None = None) -> tuple[list[Challenge], int]:
    """揭榜挂帅: challenges taking proposals (status open, deadline not passed), the nearest deadline first."""
    today = today or dt.date.today()
    statement = (select(Challenge).where(Challenge.status == "open", Challenge.deadline >= today)
                 .order_by(Challenge.deadline, Challenge.bounty.desc(), Challenge.id))
    rows = list(session.scalars(statement.limit(limit).offset(offset)))
    return rows, session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))


def public_challenge(session: Session, challenge_id: int) -> Challenge:
    """A challenge's public page (requirements, bounty, deadline, criteria); proposals and scores stay inside."""
    challenge = session.get(Challenge, challenge_id)
    if challenge is None or challenge.status == "cancelled":
        raise NotFound("没有找到这个榜单：它可能已撤榜")
    return challenge


@dataclass(frozen=True)
class Profile:
    organisation: Organisation
    achievements: list[Achievement]
    demands: list[Demand]
    achievement_count: int
    demand_count: int


def organisation_profile(session: Session, organisation_id: int, *, today: dt.date | None = None,
                         limit: int = 20) -> Profile:
    """An active organisation's public page: name, kind, region and its published postings. Applicants under
    review and rejected ones are not shown."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.status != v.OrganisationStatus.ACTIVE.value \
            or organisation.kind == v.OrganisationKind.GOVERNMENT.value:
        raise NotFound("没有找到该单位")
    today = today or dt.date.today()
    mine = ListQuery(organisation_id=organisation_id, limit=limit)
    achievements, achievement_count = published(session, ACHIEVEMENTS, mine, today=today)
    demands, demand_count = published(session, DEMANDS, mine, today=today)
    return Profile(organisation, achievements, demands, achievement_count, demand_count)


def sitemap_paths(session: Session, *, today: dt.date | None = None, limit: int = 45_000) -> list[tuple[str, dt.date | None]]:
    """Every public page's path with its last change, for /sitemap.xml (one file holds at most 50,000 URLs)."""
    today = today or dt.date.today()
    paths: list[tuple[str, dt.date | None]] = [("/web/", None), ("/web/market/achievements", None),
                                              ("/web/market/demands", None), ("/web/market/challenges", None)]
    for spec in (ACHIEVEMENTS, DEMANDS):
        rows = session.execute(select(spec.model.id, spec.model.updated_at).where(_public(spec, today))
                               .order_by(spec.model.id).limit(limit)).all()
        paths += [(f"/web/market/{spec.name}/{row.id}", row.updated_at.date() if row.updated_at else None) for row in rows]
    owners = session.scalars(select(Achievement.organisation_id).where(_public(ACHIEVEMENTS, today)).union(
        select(Demand.organisation_id).where(_public(DEMANDS, today)))).all()
    paths += [(f"/web/market/organisations/{o}", None) for o in sorted(o for o in owners if o)][:limit]
    return paths


def counts(session: Session, *, today: dt.date | None = None) -> dict[str, int]:
    today = today or dt.date.today()
    return {spec.name: session.scalar(select(func.count()).select_from(spec.model).where(_public(spec, today)))
            for spec in (ACHIEVEMENTS, DEMANDS)}
