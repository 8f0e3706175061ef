"""Whether the codes a posting, an organisation or a subscription names exist: a technology field, a region."""

from __future__ import annotations

from sqlalchemy.orm import Session

from matchmaker.errors import FieldProblem
from matchmaker.models import Region, TechnologyField
from matchmaker.regions import unknown_region


def reference_problems(session: Session, *, field: str | None = None, region: str | None = None) -> list[FieldProblem]:
    """A problem for each code given that the platform does not hold (None: not given, not checked)."""
    problems = []
    if field is not None and session.get(TechnologyField, field) is None:
        problems.append(FieldProblem("field", f"技术领域代码“{field}”不存在，请从平台的技术领域中选择。"))
    if region is not None and session.get(Region, region) is None:
        problems.append(FieldProblem("region", unknown_region(region)))
    return problems
