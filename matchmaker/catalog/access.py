"""Who may see, change and review a posting: the one place these rules live (API and pages both ask here)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_

from matchmaker import vocabulary as v
from matchmaker.catalog.specs import PENDING, UNPUBLISHED, LibrarySpec
from matchmaker.errors import NotFound
from matchmaker.identity.market import in_market, market_condition
from matchmaker.identity.services import Actor

# Who reviews postings: admins and the S&T department's analysts (domain.md: analysts review postings).
REVIEWERS = (v.Role.ADMIN, v.Role.ANALYST)


def is_visible(actor: Actor, record) -> bool:
    """Unpublished postings (draft, pending review) exist only for their owner's users and admins."""
    if actor.role is v.Role.ADMIN or record.status not in UNPUBLISHED:
        return True
    if record.status == PENDING and may_review(actor):
        return in_market(actor, record.region_code)   # a city's reviewer sees its own city's queue
    return record.organisation_id == actor.organisation_id


def visible_condition(actor: Actor, model) -> ColumnElement[bool] | None:
    """is_visible as a WHERE condition on `model`'s rows; None when the actor sees them all."""
    parts = visible_parts(actor, model)
    return None if parts is None else or_(*parts)


def visible_parts(actor: Actor, model) -> list[ColumnElement[bool]] | None:
    """visible_condition as disjoint parts, each of which one index serves: the public statuses, the caller's own
    organisation's unpublished records, and for reviewers the others' pending ones in their market. Counted part by
    part, a total at 1M reads the status index instead of the table (227 → 33 ms on the national world)."""
    if actor.role is v.Role.ADMIN:
        return None
    public = [s.value for s in (v.AchievementStatus if model.__tablename__ == "achievements" else v.DemandStatus)
              if s.value not in UNPUBLISHED]
    own = model.organisation_id == actor.organisation_id
    parts = [model.status.in_(public), own & model.status.in_(UNPUBLISHED)]
    if may_review(actor):
        scope = market_condition(actor, model.region_code)
        others_pending = (model.status == PENDING) & ~own
        parts.append(others_pending if scope is None else others_pending & scope)
    return parts


def may_review(actor: Actor) -> bool:
    """Approve or reject pending postings."""
    return actor.role in REVIEWERS


def sees_confidential(actor: Actor, record) -> bool:
    """confidential_detail is for the owner organisation and admins; others by a deal or a grant (see
    confidential.confidential_readable, which the database answers)."""
    return actor.role is v.Role.ADMIN or record.organisation_id == actor.organisation_id


def sees_review_note(actor: Actor, spec: LibrarySpec, record) -> bool:
    """A rejection note is between the reviewers and the owner."""
    return may_review(actor) or may_edit(actor, spec, record)


def may_edit(actor: Actor, spec: LibrarySpec, record) -> bool:
    if actor.role is v.Role.ADMIN:
        return True
    return actor.role is spec.owner_role and record.organisation_id == actor.organisation_id


def visible_record(session, actor: Actor, model, record_id: int, field: str):
    """A posting the body names, or 404 when it does not exist or the actor may not see it: a draft of another
    organisation is answered exactly like a missing one, so its existence does not leak (F8)."""
    record = session.get(model, record_id)
    if record is None or not is_visible(actor, record):
        words = {"demand_id": "技术需求", "achievement_id": "科技成果"}.get(field, "信息")
        reason = f"找不到所指的{words}：它可能已被删除，或您没有查看权限。请刷新后重新选择。"
        raise NotFound.on(field, reason)
    return record
