"""The synthetic world generator: organisations, brokers, achievements, demands and their latent fits."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from faker import Faker
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Connection, Engine, func, insert, select

from matchmaker import seeds
from matchmaker import vocabulary as v
from matchmaker.models import Achievement, Broker, Demand, IPRecord, LatentFit, Organisation, User, World
from matchmaker.simulation.credit_codes import make_uscc
from matchmaker.simulation.wording import Topic, Wording

GENERATOR_VERSION = "4"  # 4: coherent subjects; latent fit from the topic only (same-subject postings included), structure drawn independently
# Dates are fixed, not today's, so the same seed gives the same rows on any day.
WORLD_DATE = dt.date(2026, 6, 30)
CHUNK = 5_000
DUPLICATE_SHARE = 0.02  # share of postings an office posts twice


@dataclass(frozen=True)
class ScaleSpec:
    achievements: int
    demands: int
    brokers: int
    universities: int  # universities and institutes together
    enterprises: int
    agencies: int
    home_province: str | None  # None: the whole country
    # Share of the platform's firms based in the home province. Provincial platforms are open to firms from
    # anywhere (浙江网上技术市场 serves the country), and a province's results are largely bought elsewhere:
    # Dalian converts 42% of its achievements locally (seed 001). Assumption: half the posting firms are local.
    local_firm_share: float = 0.5
    # Share of universities and institutes in the home province: a provincial achievements library holds the
    # province's own results, plus partner institutions elsewhere (assumption).
    local_supplier_share: float = 0.8
    # A subject recurs across postings (14 per field), so other achievements on a demand's subject answer it too:
    # up to this many of them are recorded as level-3 fits; the rest stay unjudged, as in ccf2019.
    same_subject_fits: int = 30


SCALES = {
    # A Dalian-like province (辽宁) for demo and province, so the simulator can calibrate on the 42% figure.
    "demo": ScaleSpec(2_000, 500, 30, 30, 300, 8, "210000"),
    "province": ScaleSpec(20_000, 5_000, 300, 120, 3_000, 40, "210000"),
    "national": ScaleSpec(1_000_000, 200_000, 10_000, 2_500, 120_000, 1_500, None, same_subject_fits=5),
}

# Provinces the policy texts name; a provincial world draws its outside partners from them.
SEED_PROVINCES = ("420000", "210000", "620000", "630000", "440000", "610000", "410000", "330000", "230000")


@dataclass
class WorldResult:
    created: bool
    counts: dict[str, int]
    seconds: float = 0.0


@dataclass
class _Org:
    id: int
    kind: str
    region_code: str
    fields: tuple[str, ...]
    industry: str | None = None


@dataclass
class _State:
    """Running ids and the pools later rows draw on."""

    next_ids: dict[str, int]
    suppliers: list[_Org] = field(default_factory=list)
    firms_by_field: dict[str, list[_Org]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def take_id(self, table: str) -> int:
        self.next_ids[table] += 1
        return self.next_ids[table]


def generate_world(engine: Engine, *, scale: str, seed: int, console: Console | None = None) -> WorldResult:
    """Create the world for (scale, seed) in one transaction, or do nothing if it already exists."""
    spec = SCALES[scale]
    with engine.connect() as conn:
        existing = conn.execute(select(World).where(World.scale == scale, World.seed == seed)).first()
    if existing is not None:
        return WorldResult(created=False, counts=dict(existing.counts))

    started = time.perf_counter()
    generator = _Generator(spec, scale, seed)
    with engine.begin() as conn, _progress(console) as progress:
        if conn.dialect.name == "sqlite":
            # Index inserts land all over the B-trees; SQLite's default 2 MB page cache makes that disk-bound.
            conn.exec_driver_sql("PRAGMA cache_size=-1000000")
        state = _State(next_ids={t: _max_id(conn, t) for t in _TABLES})
        generator.run(conn, state, progress)
        _advance_sequences(conn)
        conn.execute(
            insert(World),
            {"scale": scale, "seed": seed, "generator_version": GENERATOR_VERSION, "counts": state.counts},
        )
    return WorldResult(created=True, counts=state.counts, seconds=time.perf_counter() - started)


_TABLES = {"organisations": Organisation, "users": User, "brokers": Broker, "achievements": Achievement,
           "demands": Demand}


def _advance_sequences(conn: Connection) -> None:
    """The generator writes explicit ids; PostgreSQL's sequences must move past them or the next insert collides."""
    if conn.dialect.name != "postgresql":
        return
    for table in _TABLES:
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
        )


def _max_id(conn: Connection, table: str) -> int:
    return conn.scalar(select(func.coalesce(func.max(_TABLES[table].id), 0)))


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        transient=False,
        disable=console is None,
    )


class _Generator:
    def __init__(self, spec: ScaleSpec, scale: str, seed: int) -> None:
        self.spec = spec
        self.prefix = f"w{scale[0]}{seed}"
        self.rng = random.Random(f"{scale}:{seed}")
        self.faker = Faker("zh_CN")
        self.faker.seed_instance(seed)
        self.fields = seeds.fields()
        if not self.fields:
            raise RuntimeError("seeds/fields/*.toml is empty: the generator needs the curated vocabulary")
        self.fields_by_code = {f.code: f for f in self.fields}
        self.wordings = {f.code: Wording(f) for f in self.fields}
        self.suppliers: list[_Org] = []
        self.names = [self.faker.name() for _ in range(3_000)]
        self.brands = list(dict.fromkeys([self.faker.company_prefix() for _ in range(400)]))
        self.regions = seeds.regions()
        # (field, subject) → achievements whose whole topic is that subject; demands with their subject and fits
        self.subject_members: dict[tuple, list[int]] = {}
        self.demand_subjects: list[tuple[int, tuple, set[int]]] = []
        self.city_names = {r.code: r.name for r in self.regions}
        self.cities_by_province: dict[str, list[str]] = {}
        for region in self.regions:
            if region.level == "city":
                self.cities_by_province.setdefault(region.province_code, []).append(region.code)

    # ---- top level -------------------------------------------------------------------------------
    def run(self, conn: Connection, state: _State, progress: Progress) -> None:
        spec = self.spec
        task = progress.add_task("world", total=spec.achievements + spec.demands)
        self._organisations(conn, state)
        self.suppliers = state.suppliers
        self._brokers(conn, state)
        linked = self._demands_with_answers(conn, state, progress, task)
        self._background_achievements(conn, state, progress, task, spec.achievements - linked)
        self._same_subject_fits(conn, state)

    def _same_subject_fits(self, conn: Connection, state: _State) -> None:
        """Level 3 for other achievements on a demand's subject: they answer it, whoever they were written for."""
        rows = []
        for demand_id, key, own in self.demand_subjects:
            others = [a for a in self.subject_members.get(key, ()) if a not in own]
            for achievement_id in self.rng.sample(others, k=min(self.spec.same_subject_fits, len(others))):
                rows.append({"demand_id": demand_id, "achievement_id": achievement_id, "level": 3})
        for batch in _batches(rows):
            conn.execute(insert(LatentFit), batch)
        state.counts["latent_fits"] = state.counts.get("latent_fits", 0) + len(rows)
        self.demand_subjects, self.subject_members = [], {}

    # ---- places ----------------------------------------------------------------------------------
    def _pick_city(self, local_share: float) -> str:
        home = self.spec.home_province
        if home is None:
            province = self.rng.choice(list(self.cities_by_province))
        elif self.rng.random() < local_share:
            province = home
        else:
            province = self.rng.choice([p for p in SEED_PROVINCES if p != home])
        return self.rng.choice(self.cities_by_province[province])

    def _short_place(self, code: str) -> str:
        name = self.city_names.get(code, "")
        for suffix in ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "省", "市", "地区", "盟"):
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name

    # ---- organisations and brokers ---------------------------------------------------------------
    def _organisations(self, conn: Connection, state: _State) -> None:
        spec, rng = self.spec, self.rng
        orgs_seed = seeds.organisations()
        field_codes = [f.code for f in self.fields]
        rows: list[dict] = []
        universities = orgs_seed.get("universities", [])
        real = list(universities) + list(orgs_seed.get("institutes", []))
        rng.shuffle(real)
        generated = orgs_seed.get("generated", {})
        for entry, home in self._supplier_plan(real):
            if entry is not None:
                kind = v.OrganisationKind.UNIVERSITY if entry in universities else v.OrganisationKind.INSTITUTE
                name, city = entry["name"], entry["city"]
                strengths = tuple(s for s in entry.get("strengths", ()) if s in field_codes) or (rng.choice(field_codes),)
            else:
                city = self._pick_city(1.0 if home else 0.0)
                kind = rng.choice([v.OrganisationKind.UNIVERSITY, v.OrganisationKind.INSTITUTE])
                pattern_key = "university_patterns" if kind == v.OrganisationKind.UNIVERSITY else "institute_patterns"
                name = self._fill_org(rng.choice(generated[pattern_key]), city, generated)
                strengths = tuple(rng.sample(field_codes, k=min(3, len(field_codes))))
            org = _Org(state.take_id("organisations"), kind.value, city, strengths)
            state.suppliers.append(org)
            rows.append(self._org_row(org, name))
        for _ in range(spec.enterprises):
            city = self._pick_city(spec.local_firm_share)
            field_vocab = rng.choice(self.fields)
            industry = rng.choice(field_vocab.industries) if field_vocab.industries else field_vocab.name
            org = _Org(state.take_id("organisations"), v.OrganisationKind.ENTERPRISE.value, city, (field_vocab.code,), industry)
            state.firms_by_field.setdefault(field_vocab.code, []).append(org)
            name = self._fill_org(rng.choice(generated["enterprise_patterns"]), city, generated, industry=industry)
            rows.append(
                self._org_row(org, name)
                | {
                    "credit_code": make_uscc(rng, city),
                    "size": rng.choices(list(v.FirmSize), weights=(30, 40, 20, 10))[0].value,
                    "high_tech": rng.random() < 0.35,
                    "industry": industry,
                }
            )
        self.agencies: list[_Org] = []
        for _ in range(spec.agencies):
            city = self._pick_city(0.8)
            org = _Org(state.take_id("organisations"), v.OrganisationKind.AGENCY.value, city, ())
            self.agencies.append(org)
            rows.append(self._org_row(org, self._fill_org(rng.choice(generated["agency_patterns"]), city, generated)))
        # The S&T department whose analysts and admins run the platform.
        home = spec.home_province or "110000"
        department = _Org(state.take_id("organisations"), v.OrganisationKind.GOVERNMENT.value, home, ())
        department_name = "科学技术部" if spec.home_province is None else f"{self.city_names[home]}科学技术厅"
        rows.append(self._org_row(department, department_name))
        self._dedupe_names(rows)
        for batch in _batches(rows):
            conn.execute(insert(Organisation), batch)
        state.counts["organisations"] = len(rows)

    def _supplier_plan(self, real: list[dict]) -> list[tuple[dict | None, bool]]:
        """Which universities and institutes the world has: real ones first, generated names for the rest.

        A provincial library holds mostly its own province's results (local_supplier_share), the rest from
        partner institutions in the other provinces the policy texts name.
        """
        spec = self.spec
        if spec.home_province is None:
            return [(real[i] if i < len(real) else None, False) for i in range(spec.universities)]
        n_home = round(spec.universities * spec.local_supplier_share)
        home_real = [o for o in real if o["city"][:2] + "0000" == spec.home_province][:n_home]
        away_real = [o for o in real if o["city"][:2] + "0000" in SEED_PROVINCES
                     and o["city"][:2] + "0000" != spec.home_province][: spec.universities - n_home]
        return ([(o, True) for o in home_real] + [(None, True)] * (n_home - len(home_real))
                + [(o, False) for o in away_real] + [(None, False)] * (spec.universities - n_home - len(away_real)))

    def _fill_org(self, pattern: str, city: str, generated: dict, *, industry: str = "") -> str:
        rng = self.rng
        brands = generated.get("brands") or self.brands
        return pattern.format(
            province=self._short_place(city[:2] + "0000"),
            city=self._short_place(city),
            brand=rng.choice(brands if rng.random() < 0.7 else self.brands),
            industry=industry or rng.choice(self.rng.choice(self.fields).industries or ("科技",)),
            subject=rng.choice(generated.get("institute_subjects", ("先进技术",))),
        )

    def _org_row(self, org: _Org, name: str) -> dict:
        return {
            "id": org.id,
            "external_id": f"{self.prefix}-o{org.id}",
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

    @staticmethod
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

    def _brokers(self, conn: Connection, state: _State) -> None:
        """Brokers are platform users too (no API token until an admin issues one)."""
        rng = self.rng
        rows, users = [], []
        stamp = dt.datetime.combine(WORLD_DATE, dt.time(), dt.UTC)
        for _ in range(self.spec.brokers):
            agency = rng.choice(self.agencies)
            broker_id, user_id = state.take_id("brokers"), state.take_id("users")
            name = rng.choice(self.names)
            users.append({"id": user_id, "name": name, "role": "broker", "organisation_id": agency.id,
                          "token_hash": None, "created_at": stamp, "updated_at": stamp})
            rows.append(
                {
                    "id": broker_id,
                    "external_id": f"{self.prefix}-b{broker_id}",
                    "user_id": user_id,
                    "name": name,
                    "agency_id": agency.id,
                    "level": rng.choices(list(v.BrokerLevel), weights=(55, 35, 10))[0].value,
                    "region_code": agency.region_code,
                    "certified_on": WORLD_DATE - dt.timedelta(days=rng.randrange(30, 2_000)),
                    "created_at": dt.datetime.combine(WORLD_DATE, dt.time(), dt.UTC),
                    "updated_at": dt.datetime.combine(WORLD_DATE, dt.time(), dt.UTC),
                }
            )
        for batch in _batches(users):
            conn.execute(insert(User), batch)
        for batch in _batches(rows):
            conn.execute(insert(Broker), batch)
        state.counts["brokers"] = len(rows)

    # ---- demands and the achievements generated to answer them ----------------------------------
    def _demands_with_answers(self, conn: Connection, state: _State, progress: Progress, task) -> int:
        """Each demand gets answers of known quality: latent truth for the matcher and the simulator."""
        buffers = _Buffers()
        linked = 0
        for _ in range(self.spec.demands):
            linked += self.demand_with_answers(state, buffers, budget=self.spec.achievements - linked)
            progress.advance(task, 1)
            if len(buffers.achievements) >= CHUNK:
                progress.advance(task, buffers.flush(conn, state))
        progress.advance(task, buffers.flush(conn, state))
        return linked

    def demand_with_answers(self, state: _State, buffers: _Buffers, *, budget: int) -> int:
        """Buffer one demand and up to `budget` achievements made to answer it; returns how many answers."""
        rng = self.rng
        vocab = rng.choice(self.fields)
        wording = self.wordings[vocab.code]
        firm = rng.choice(state.firms_by_field.get(vocab.code) or [o for v_ in state.firms_by_field.values() for o in v_])
        topic = wording.topic(rng)
        demand = self._demand_row(state, vocab, wording, topic, firm)
        buffers.demands.append(demand)
        linked = 0
        own: set[int] = set()
        key = (vocab.code, topic)
        for level, kind in self._answer_plan():
            if linked >= budget:
                break
            achievement = self._answer(state, vocab, wording, topic, demand, level, kind, buffers)
            posted = [achievement] if buffers.achievements[-1] is achievement else [achievement, buffers.achievements[-1]]
            for row in posted:   # a duplicate posting answers just as well
                buffers.fits.append({"demand_id": demand["id"], "achievement_id": row["id"], "level": level})
                own.add(row["id"])
                if kind == "reworded":
                    self.subject_members.setdefault(key, []).append(row["id"])
                linked += 1
        self.demand_subjects.append((demand["id"], key, own))
        return linked

    def load_pools(self, conn: Connection, state: _State) -> None:
        """Suppliers and firms of an existing world, for postings made after seeding."""
        industry_field = {industry: f.code for f in self.fields for industry in f.industries}
        supplier_fields: dict[int, set[str]] = {}
        for org_id, field_code in conn.execute(select(Achievement.organisation_id, Achievement.field_code).distinct()):
            if org_id is not None and field_code:
                supplier_fields.setdefault(org_id, set()).add(field_code)
        for org in conn.execute(select(Organisation.id, Organisation.kind, Organisation.region_code, Organisation.industry)
                                .order_by(Organisation.id)):
            if org.kind in ("university", "institute") and org.region_code:
                fields = tuple(sorted(supplier_fields.get(org.id, ()))) or (self.fields[org.id % len(self.fields)].code,)
                state.suppliers.append(_Org(org.id, org.kind, org.region_code, fields))
            elif org.kind == "enterprise" and org.region_code:
                code = industry_field.get(org.industry or "", self.fields[org.id % len(self.fields)].code)
                state.firms_by_field.setdefault(code, []).append(_Org(org.id, org.kind, org.region_code, (code,), org.industry))
        self.suppliers = state.suppliers

    def _answer_plan(self) -> list[tuple[int, str]]:
        """Which answers a demand gets: (level, how the answer was made). The level comes from the topic alone:
        how much of the demand's subject the answer works on (docs/world.md)."""
        rng = self.rng
        plan = []
        if rng.random() < 0.75:
            plan.append((4, "reworded"))
        plan += [(3, "partial")] * rng.choice((0, 1, 1, 2))
        plan += [(2, "weak")] * rng.choice((0, 1, 1))
        plan.append((1, "near_miss"))
        return plan

    def _demand_row(self, state: _State, vocab, wording: Wording, topic: Topic, firm: _Org) -> dict:
        rng = self.rng
        demand_id = state.take_id("demands")
        budget_max = _money(rng.lognormvariate(13.1, 0.9))  # median ≈ 500,000 yuan
        budget_min = _money(float(budget_max) * rng.uniform(0.3, 0.8))
        is_challenge = rng.random() < 0.08
        posted = WORLD_DATE - dt.timedelta(days=rng.randrange(0, 540))
        status = rng.choices(
            [v.DemandStatus.PUBLISHED, v.DemandStatus.PENDING_REVIEW, v.DemandStatus.EXPIRED, v.DemandStatus.SOLVED, v.DemandStatus.WITHDRAWN],
            weights=(85, 4, 6, 3, 2),
        )[0]
        title, problem, targets, conditions = wording.demand_text(rng, topic, firm.industry or vocab.name)
        return {
            "id": demand_id,
            "external_id": f"{self.prefix}-d{demand_id}",
            "title": title,
            "problem": problem,
            "targets": targets,
            "conditions": conditions,
            "field_code": vocab.code,
            "min_trl": rng.choices(range(3, 9), weights=(5, 15, 25, 30, 17, 8))[0],
            "budget_min": budget_min,
            "budget_max": budget_max,
            "cooperation_modes": _modes(rng, demand=True),
            "is_challenge": is_challenge,
            "bounty": _money(float(budget_max) * rng.uniform(1.0, 3.0)) if is_challenge else None,
            "deadline": posted + dt.timedelta(days=rng.choice((180, 365, 730))),
            "organisation_id": firm.id,
            "region_code": firm.region_code,
            "status": status.value,
            "posted_on": posted,
            "created_at": dt.datetime.combine(posted, dt.time(), dt.UTC),
            "updated_at": dt.datetime.combine(posted, dt.time(), dt.UTC),
        }

    def _answer(self, state, vocab, wording: Wording, topic: Topic, demand: dict, level: int, kind: str, buffers) -> dict:
        rng = self.rng
        if kind == "reworded":
            answer_topic = wording.reword(rng, topic)
        elif kind == "partial":
            answer_topic = wording.mix(rng, topic, keep=3)
        elif kind == "weak":
            answer_topic = wording.mix(rng, topic, keep=1)
        else:  # near miss: another subject of the same field
            answer_topic = wording.other_subject(rng, topic)
        supplier = self._supplier_for(vocab.code, demand["region_code"] if rng.random() < 0.45 else None)
        # Stage and price are drawn as for any achievement, whatever the level: the world's truth never rewards
        # structure it created, so what a matcher learns from it about TRL or price is only what people say.
        row = self._achievement_row(state, vocab, wording, answer_topic, supplier)
        self._post(state, row, buffers)
        return row

    def _post(self, state: _State, row: dict, buffers: _Buffers) -> dict | None:
        """Buffer an achievement; now and then its office posts it a second time, lightly edited."""
        buffers.achievements.append(row)
        buffers.ip_records.extend(self._ip_rows(row))
        if self.rng.random() >= DUPLICATE_SHARE:
            return None
        copy_id = state.take_id("achievements")
        copy = row | {
            "id": copy_id,
            "external_id": f"{self.prefix}-a{copy_id}",
            "summary": row["summary"] + self.rng.choice(("欢迎洽谈合作。", "可提供技术培训与售后服务。", "")),
        }
        buffers.achievements.append(copy)
        return copy

    def _supplier_for(self, field_code: str, near_region: str | None) -> _Org:
        rng = self.rng
        candidates = rng.sample(self.suppliers, k=min(40, len(self.suppliers)))
        strong = [o for o in candidates if field_code in o.fields]
        if near_region:
            local = [o for o in strong or candidates if o.region_code[:2] == near_region[:2]]
            if local:
                return rng.choice(local)
        return rng.choice(strong or candidates)

    # ---- achievements -----------------------------------------------------------------------------
    def _background_achievements(self, conn: Connection, state: _State, progress: Progress, task, count: int) -> None:
        buffers = _Buffers()
        done = 0
        while buffers.total + done < count:
            self.background_achievement(state, buffers)
            if len(buffers.achievements) >= CHUNK:
                flushed = buffers.flush(conn, state)
                done += flushed
                progress.advance(task, flushed)
        progress.advance(task, buffers.flush(conn, state))

    def background_achievement(self, state: _State, buffers: _Buffers) -> None:
        """An achievement posted for its own sake, mostly in one of its office's strong fields."""
        rng = self.rng
        supplier = rng.choice(self.suppliers)
        code = rng.choice(supplier.fields) if rng.random() < 0.8 else rng.choice(self.fields).code
        vocab = self.fields_by_code[code]
        wording = self.wordings[vocab.code]
        topic = wording.topic(rng)
        row = self._achievement_row(state, vocab, wording, topic, supplier)
        self._post(state, row, buffers)
        if wording.subjects:
            self.subject_members.setdefault((vocab.code, topic), []).append(row["id"])

    def _achievement_row(self, state, vocab, wording: Wording, topic: Topic, supplier: _Org) -> dict:
        rng = self.rng
        achievement_id = state.take_id("achievements")
        trl = rng.choices(range(1, 10), weights=(2, 6, 14, 20, 20, 16, 11, 7, 4))[0]
        price = _money(rng.lognormvariate(13.3, 1.1))
        posted = WORLD_DATE - dt.timedelta(days=rng.randrange(0, 720))
        status = rng.choices(
            [v.AchievementStatus.PUBLISHED, v.AchievementStatus.PENDING_REVIEW, v.AchievementStatus.DRAFT,
             v.AchievementStatus.EXPIRED, v.AchievementStatus.WITHDRAWN, v.AchievementStatus.TRANSFERRED],
            weights=(84, 4, 2, 5, 3, 2),
        )[0]
        title, summary, keywords, detail = wording.achievement_text(rng, topic)
        return {
            "id": achievement_id,
            "external_id": f"{self.prefix}-a{achievement_id}",
            "title": title,
            "summary": summary,
            "confidential_detail": detail,
            "keywords": keywords,
            "team": wording.team(rng, self.names, seeds.organisations().get("generated", {})),
            "field_code": vocab.code,
            "trl": trl,
            "organisation_id": supplier.id,
            "region_code": supplier.region_code,
            "transfer_modes": _modes(rng, demand=False),
            "pricing_mode": rng.choices(list(v.PricingMode), weights=(60, 25, 5, 10))[0].value,
            "asking_price": price,
            "use_first_pay_later": rng.random() < 0.15,
            "status": status.value,
            "posted_on": posted,
            "expires_on": posted + dt.timedelta(days=rng.choice((365, 730, 1095))),
            "created_at": dt.datetime.combine(posted, dt.time(), dt.UTC),
            "updated_at": dt.datetime.combine(posted, dt.time(), dt.UTC),
        }

    def _ip_rows(self, achievement: dict) -> list[dict]:
        rng = self.rng
        rows = []
        for _ in range(rng.choices((0, 1, 2, 3), weights=(15, 55, 22, 8))[0]):
            ip_type = rng.choices(list(v.IPType), weights=(50, 22, 3, 15, 2, 2, 6))[0]
            year = rng.randrange(2012, 2026)
            if ip_type in (v.IPType.INVENTION_PATENT, v.IPType.UTILITY_MODEL, v.IPType.DESIGN_PATENT):
                kind_digit = {"invention_patent": 1, "utility_model": 2, "design_patent": 3}[ip_type.value]
                number = f"ZL{year}{kind_digit}{rng.randrange(10**7):07d}.{rng.randrange(10)}"
            elif ip_type is v.IPType.SOFTWARE_COPYRIGHT:
                number = f"{year}SR{rng.randrange(10**7):07d}"
            else:
                number = f"{ip_type.value[:2].upper()}{year}{rng.randrange(10**5):05d}"
            rows.append(
                {
                    "achievement_id": achievement["id"],
                    "ip_type": ip_type.value,
                    "number": number,
                    "status": rng.choices(list(v.IPStatus), weights=(20, 75, 5))[0].value,
                }
            )
        return rows


class _Buffers:
    """Rows waiting for one bulk insert; duplicates are posted here too, as real libraries hold them."""

    def __init__(self) -> None:
        self.demands: list[dict] = []
        self.achievements: list[dict] = []
        self.ip_records: list[dict] = []
        self.fits: list[dict] = []

    @property
    def total(self) -> int:
        return len(self.achievements)

    def flush(self, conn: Connection, state: _State) -> int:
        if self.demands:
            conn.execute(insert(Demand), self.demands)
        if self.achievements:
            conn.execute(insert(Achievement), self.achievements)
        if self.ip_records:
            conn.execute(insert(IPRecord), self.ip_records)
        if self.fits:
            conn.execute(insert(LatentFit), self.fits)
        for name, rows in (("demands", self.demands), ("achievements", self.achievements),
                           ("ip_records", self.ip_records), ("latent_fits", self.fits)):
            state.counts[name] = state.counts.get(name, 0) + len(rows)
        done = len(self.achievements)
        self.demands, self.achievements, self.ip_records, self.fits = [], [], [], []
        return done


def _batches(rows: list[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _money(amount: float) -> Decimal:
    """Round to the thousand yuan, as postings quote prices."""
    return Decimal(max(1_000, round(amount / 1_000) * 1_000))


def _modes(rng: random.Random, *, demand: bool) -> int:
    modes = [m for m in v.TransferMode if rng.random() < (0.35 if demand else 0.45)]
    return v.modes_to_mask(modes or [rng.choice(list(v.TransferMode))])


def extend_world(conn: Connection, *, key: str, demands: int, achievements: int, posted_on: dt.date,
                 rng: random.Random) -> tuple[list[int], list[int]]:
    """New postings for the market simulator, drawn like the world's and waiting for review.

    Demands come with their generated answers and latent fits, as at seeding; the rest of the achievements
    are background postings. Returns (achievement ids, demand ids), all in status pending_review.
    """
    generator = _Generator(SCALES["demo"], "demo", 0)
    generator.rng, generator.prefix = rng, f"s{key}"
    state = _State(next_ids={t: _max_id(conn, t) for t in _TABLES})
    generator.load_pools(conn, state)
    buffers = _Buffers()
    for _ in range(demands):
        generator.demand_with_answers(state, buffers, budget=achievements)
    while len(buffers.achievements) < achievements:
        generator.background_achievement(state, buffers)
    for row in buffers.achievements:
        row.update(status=v.AchievementStatus.PENDING_REVIEW.value, posted_on=None,
                   expires_on=posted_on + dt.timedelta(days=730), created_at=_stamp(posted_on), updated_at=_stamp(posted_on))
    for row in buffers.demands:
        row.update(status=v.DemandStatus.PENDING_REVIEW.value, posted_on=None,
                   deadline=posted_on + dt.timedelta(days=365), created_at=_stamp(posted_on), updated_at=_stamp(posted_on))
    new_achievements = [row["id"] for row in buffers.achievements]
    new_demands = [row["id"] for row in buffers.demands]
    buffers.flush(conn, state)
    _advance_sequences(conn)
    return new_achievements, new_demands


def _stamp(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)
