"""Organisations of a generated world: universities and institutes, firms, agencies and the S&T department."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from matchmaker import seeds
from matchmaker import vocabulary as v
from matchmaker.models import Achievement, Organisation
from matchmaker.world.context import SEED_PROVINCES, WORLD_DATE, Generator, Org, State, batches
from matchmaker.world.credit_codes import make_uscc


def add_organisations(gen: Generator, conn: Connection, state: State) -> None:
    """Insert every organisation of the world and fill the pools of suppliers, firms and agencies."""
    spec, rng = gen.spec, gen.rng
    orgs_seed = seeds.organisations()
    field_codes = [f.code for f in gen.fields]
    rows: list[dict] = []
    universities = orgs_seed.get("universities", [])
    real = list(universities) + list(orgs_seed.get("institutes", []))
    rng.shuffle(real)
    generated = orgs_seed.get("generated", {})
    for entry, home in _supplier_plan(gen, real):
        if entry is not None:
            kind = v.OrganisationKind.UNIVERSITY if entry in universities else v.OrganisationKind.INSTITUTE
            name, city = entry["name"], entry["city"]
            strengths = tuple(s for s in entry.get("strengths", ()) if s in field_codes) or (rng.choice(field_codes),)
        else:
            city = _pick_city(gen, 1.0 if home else 0.0)
            kind = rng.choice([v.OrganisationKind.UNIVERSITY, v.OrganisationKind.INSTITUTE])
            pattern_key = "university_patterns" if kind == v.OrganisationKind.UNIVERSITY else "institute_patterns"
            name = _fill_org(gen, rng.choice(generated[pattern_key]), city, generated)
            strengths = tuple(rng.sample(field_codes, k=min(3, len(field_codes))))
        org = Org(state.take_id("organisations"), kind.value, city, strengths)
        state.suppliers.append(org)
        rows.append(_org_row(gen, org, name))
    for _ in range(spec.enterprises):
        city = _pick_city(gen, spec.local_firm_share)
        field_vocab = rng.choice(gen.fields)
        industry = rng.choice(field_vocab.industries) if field_vocab.industries else field_vocab.name
        org = Org(state.take_id("organisations"), v.OrganisationKind.ENTERPRISE.value, city, (field_vocab.code,), industry)
        state.firms_by_field.setdefault(field_vocab.code, []).append(org)
        name = _fill_org(gen, rng.choice(generated["enterprise_patterns"]), city, generated, industry=industry)
        rows.append(
            _org_row(gen, org, name)
            | {
                "credit_code": make_uscc(rng, city),
                "size": rng.choices(list(v.FirmSize), weights=(30, 40, 20, 10))[0].value,
                "high_tech": rng.random() < 0.35,
                "industry": industry,
            }
        )
    for _ in range(spec.agencies):
        city = _pick_city(gen, 0.8)
        org = Org(state.take_id("organisations"), v.OrganisationKind.AGENCY.value, city, ())
        state.agencies.append(org)
        rows.append(_org_row(gen, org, _fill_org(gen, rng.choice(generated["agency_patterns"]), city, generated)))
    # The S&T department whose analysts and admins run the platform.
    home = spec.home_province or "110000"
    department = Org(state.take_id("organisations"), v.OrganisationKind.GOVERNMENT.value, home, ())
    department_name = "科学技术部" if spec.home_province is None else f"{gen.city_names[home]}科学技术厅"
    rows.append(_org_row(gen, department, department_name))
    # A third-party evaluation centre (科技成果评价机构) whose experts file evaluation reports; drawn last and
    # without the random stream, so adding it moved nothing else in the world.
    evaluator = Org(state.take_id("organisations"), v.OrganisationKind.EVALUATOR.value, home, ())
    evaluator_name = "科技成果评价中心" if spec.home_province is None else \
        f"{_short_place(gen, home)}科技成果评价中心"
    rows.append(_org_row(gen, evaluator, evaluator_name))
    _dedupe_names(rows)
    for batch in batches(rows):
        conn.execute(insert(Organisation), batch)
    state.counts["organisations"] = len(rows)


@dataclass
class PoolRows:
    """What the pools of an existing world are made from: its organisations, and the fields each office has posted
    in. A simulation keeps them from month to month: its organisations do not change, and `add_postings` adds each
    month's achievements, so the pools are the ones a fresh read would give (reading them was 5.5 s a month on the
    national world)."""

    organisations: list[tuple[int, str, str | None, str | None]]   # id, kind, region code, industry; by id
    supplier_fields: dict[int, set[str]]

    @classmethod
    def read(cls, conn: Connection) -> PoolRows:
        fields: dict[int, set[str]] = {}
        for org_id, field_code in conn.execute(select(Achievement.organisation_id, Achievement.field_code).distinct()):
            if org_id is not None and field_code:
                fields.setdefault(org_id, set()).add(field_code)
        orgs = [tuple(row) for row in conn.execute(
            select(Organisation.id, Organisation.kind, Organisation.region_code, Organisation.industry)
            .order_by(Organisation.id))]
        return cls(orgs, fields)

    def add_postings(self, achievements: list[dict]) -> None:
        for row in achievements:
            if row.get("organisation_id") is not None and row.get("field_code"):
                self.supplier_fields.setdefault(row["organisation_id"], set()).add(row["field_code"])


def load_pools(gen: Generator, rows: PoolRows, state: State) -> None:
    """Suppliers and firms of an existing world, for postings made after seeding."""
    industry_field = {industry: f.code for f in gen.fields for industry in f.industries}
    for org_id, kind, region_code, industry in rows.organisations:
        if kind in ("university", "institute") and region_code:
            fields = tuple(sorted(rows.supplier_fields.get(org_id, ()))) or (gen.fields[org_id % len(gen.fields)].code,)
            state.suppliers.append(Org(org_id, kind, region_code, fields))
        elif kind == "enterprise" and region_code:
            code = industry_field.get(industry or "", gen.fields[org_id % len(gen.fields)].code)
            state.firms_by_field.setdefault(code, []).append(Org(org_id, kind, region_code, (code,), industry))


# ---- places -------------------------------------------------------------------------------------------------

def _pick_city(gen: Generator, local_share: float) -> str:
    home = gen.spec.home_province
    if home is None:
        province = gen.rng.choice(list(gen.cities_by_province))
    elif gen.rng.random() < local_share:
        province = home
    else:
        province = gen.rng.choice([p for p in SEED_PROVINCES if p != home])
    return gen.rng.choice(gen.cities_by_province[province])


def _short_place(gen: Generator, code: str) -> str:
    name = gen.city_names.get(code, "")
    for suffix in ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "省", "市", "地区", "盟"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


# ---- rows ---------------------------------------------------------------------------------------------------

def _supplier_plan(gen: Generator, real: list[dict]) -> list[tuple[dict | None, bool]]:
    """Which universities and institutes the world has: real ones first, generated names for the rest.

    A provincial library holds mostly its own province's results (local_supplier_share), the rest from
    partner institutions in the other provinces the policy texts name.
    """
    spec = gen.spec
    if spec.home_province is None:
        return [(real[i] if i < len(real) else None, False) for i in range(spec.universities)]
    n_home = round(spec.universities * spec.local_supplier_share)
    home_real = [o for o in real if o["city"][:2] + "0000" == spec.home_province][:n_home]
    away_real = [o for o in real if o["city"][:2] + "0000" in SEED_PROVINCES
                 and o["city"][:2] + "0000" != spec.home_province][: spec.universities - n_home]
    return ([(o, True) for o in home_real] + [(None, True)] * (n_home - len(home_real))
            + [(o, False) for o in away_real] + [(None, False)] * (spec.universities - n_home - len(away_real)))


def _fill_org(gen: Generator, pattern: str, city: str, generated: dict, *, industry: str = "") -> str:
    rng = gen.rng
    brands = generated.get("brands") or gen.brands
    return pattern.format(
        province=_short_place(gen, city[:2] + "0000"),
        city=_short_place(gen, city),
        brand=rng.choice(brands if rng.random() < 0.7 else gen.brands),
        industry=industry or rng.choice(gen.rng.choice(gen.fields).industries or ("科技",)),
        subject=rng.choice(generated.get("institute_subjects", ("先进技术",))),
    )


def _org_row(gen: Generator, org: Org, name: str) -> dict:
    return {
        "id": org.id,
        "external_id": f"{gen.prefix}-o{org.id}",
        "name": name,
        "kind": org.kind,
        "region_code": org.region_code,
        "credit_code": None,
        "size": None,
        "high_tech": False,
        "industry": org.industry,
        "created_at": dt.datetime.combine(WORLD_DATE, dt.time(), dt.UTC),
        "updated_at": dt.datetime.combine(WORLD_DATE, dt.time(), dt.UTC),
    }


def _dedupe_names(rows: list[dict]) -> None:
    # Two firms may draw the same brand; real registries would not allow the same name twice.
    seen: dict[str, int] = {}
    for row in rows:
        count = seen.get(row["name"], 0)
        seen[row["name"]] = count + 1
        if count:
            row["name"] = f"{row['name']}（{count + 1}）" if row["kind"] != "enterprise" else row["name"].replace(
                "有限公司", f"第{count + 1}分公司", 1
            )
