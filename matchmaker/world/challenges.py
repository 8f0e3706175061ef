"""The world's 揭榜挂帅 challenges: each published challenge demand is put up as a challenge by its firm, with the
demand's bounty and deadline and the default scoring criteria, taking proposals until the deadline."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, insert, select

from matchmaker import vocabulary as v
from matchmaker.models import Challenge, Demand
from matchmaker.world.context import State


def add_challenges(conn: Connection, state: State) -> None:
    demands = conn.execute(select(Demand.id, Demand.organisation_id, Demand.title, Demand.problem, Demand.targets,
                                  Demand.field_code, Demand.region_code, Demand.bounty, Demand.deadline,
                                  Demand.posted_on)
                           .where(Demand.is_challenge, Demand.status == v.DemandStatus.PUBLISHED.value,
                                  Demand.bounty > 0, Demand.deadline.is_not(None)).order_by(Demand.id)).all()
    rows = [{"organisation_id": d.organisation_id, "demand_id": d.id, "title": d.title[:200],
             "requirements": "\n\n".join(part for part in (d.problem, d.targets) if part),
             "field_code": d.field_code, "region_code": d.region_code, "bounty": d.bounty, "deadline": d.deadline,
             "criteria": [dict(c) for c in v.CHALLENGE_CRITERIA], "status": "open",
             "created_at": dt.datetime.combine(d.posted_on or d.deadline, dt.time(), dt.UTC)} for d in demands]
    if rows:
        conn.execute(insert(Challenge), rows)
    state.counts["challenges"] = len(rows)
