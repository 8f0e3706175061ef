"""Likely duplicates: the same organisation posting the same thing twice (a near-identical title, or the same
text under another title). Shown to the poster on its posting and to the reviewer in the queue; never blocking,
since a second, different result can share a title."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker.catalog.specs import DEMANDS, WITHDRAWN, LibrarySpec

TITLE_SIMILAR = 0.85
TEXT_SIMILAR = 0.9
_NOISE = re.compile(r"[\s\W_]+")


def _plain(text: str | None) -> str:
    return _NOISE.sub("", text or "").lower()


def _similar(a: str, b: str, threshold: float) -> bool:
    if not a or not b:
        return False
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold and matcher.ratio() >= threshold


def likely_duplicates(session: Session, spec: LibrarySpec, record, *, limit: int = 3) -> list[tuple[int, str]]:
    """(id, title) of the organisation's other postings that look like this one, most recent first."""
    if record.organisation_id is None:
        return []
    text_column = "problem" if spec is DEMANDS else "summary"
    model = spec.model
    others = session.execute(select(model.id, model.title, getattr(model, text_column))
                             .where(model.organisation_id == record.organisation_id, model.id != record.id,
                                    model.status != WITHDRAWN.value)
                             .order_by(model.id.desc()).limit(2000)).all()
    title, text = _plain(record.title), _plain(getattr(record, text_column))
    found = []
    for other_id, other_title, other_text in others:
        if _similar(title, _plain(other_title), TITLE_SIMILAR) or (
                len(text) >= 20 and _similar(text, _plain(other_text), TEXT_SIMILAR)):
            found.append((other_id, other_title))
            if len(found) >= limit:
                break
    return found
