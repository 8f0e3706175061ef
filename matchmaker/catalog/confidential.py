"""Who may read an achievement's confidential detail, every read by a non-owner logged; owners' grants (F9)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker.catalog.access import sees_confidential
from matchmaker.catalog.services import editable_record
from matchmaker.catalog.specs import ACHIEVEMENTS
from matchmaker.errors import InvalidInput
from matchmaker.identity import audit
from matchmaker.identity.services import Actor
from matchmaker.models import ConfidentialGrant, Organisation, Pipeline


def confidential_readable(session: Session, actor: Actor, records) -> set[int]:
    """Ids of these achievements whose confidential detail the actor may read, each read by a non-owner logged.

    The owner and admins always; a broker for achievements in its own pipelines; anyone whose organisation the
    owner granted access (confidential_grants).
    """
    records = [r for r in records if getattr(r, "confidential_detail", None)]
    readable = {r.id for r in records if sees_confidential(actor, r)}
    others = [r.id for r in records if r.id not in readable]
    if others:
        granted = set(session.scalars(select(ConfidentialGrant.achievement_id).where(
            ConfidentialGrant.achievement_id.in_(others), ConfidentialGrant.organisation_id == actor.organisation_id)))
        if actor.broker_id is not None:
            granted |= set(session.scalars(select(Pipeline.achievement_id).where(
                Pipeline.achievement_id.in_(others), Pipeline.broker_id == actor.broker_id)))
        for record_id in sorted(granted):
            audit.record(session, audit.CONFIDENTIAL_READ, actor=actor, subject=f"achievement:{record_id}")
        readable |= granted
    return readable


def grant_confidential(session: Session, *, actor: Actor, achievement_id: int, organisation_id: int) -> None:
    """The owner lets another organisation read the confidential detail (a broker's agency, a firm in talks)."""
    record = editable_record(session, actor, ACHIEVEMENTS, achievement_id)
    if session.get(Organisation, organisation_id) is None:
        raise InvalidInput.on("organisation_id", "找不到要授权查看的单位，请核对后重新选择。")
    if session.get(ConfidentialGrant, (record.id, organisation_id)) is None:
        session.add(ConfidentialGrant(achievement_id=record.id, organisation_id=organisation_id,
                                      granted_by=actor.user_id))
        audit.record(session, audit.CONFIDENTIAL_GRANTED, actor=actor, subject=f"achievement:{record.id}",
                     organisation_id=organisation_id)
