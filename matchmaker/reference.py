"""Keeps the reference tables (regions, technology fields) in step with seeds/; safe to run repeatedly."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select

from matchmaker import seeds
from matchmaker.models import Region, TechnologyField


def sync_reference_data(engine: Engine) -> dict[str, int]:
    """Insert the regions and fields that are missing; existing rows are left alone (they may be referenced)."""
    added = {"regions": 0, "technology_fields": 0}
    with engine.begin() as conn:
        have = set(conn.scalars(select(Region.code)))
        # Parents first so the self-referencing foreign key holds on every insert.
        order = {"province": 0, "city": 1, "county": 2}
        rows = [
            {"code": r.code, "name": r.name, "level": r.level, "parent_code": r.parent_code}
            for r in sorted(seeds.regions(), key=lambda r: (order[r.level], r.code))
            if r.code not in have
        ]
        if rows:
            conn.execute(insert(Region), rows)
        added["regions"] = len(rows)
        have_fields = set(conn.scalars(select(TechnologyField.code)))
        field_rows = [{"code": f.code, "name": f.name} for f in seeds.fields() if f.code not in have_fields]
        if field_rows:
            conn.execute(insert(TechnologyField), field_rows)
        added["technology_fields"] = len(field_rows)
    return added
