"""What every kind of generated record is drawn with: scales, the seeded generator, running ids and pools."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from faker import Faker

from matchmaker import seeds
from matchmaker.world.wording import Wording

# Dates are fixed, not today's, so the same seed gives the same rows on any day.
WORLD_DATE = dt.date(2026, 6, 30)
CHUNK = 5_000


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
class Org:
    """An organisation as later rows need it: where it is and what it works on."""

    id: int
    kind: str
    region_code: str
    fields: tuple[str, ...]
    industry: str | None = None


@dataclass
class State:
    """Running ids and the pools later rows draw on."""

    next_ids: dict[str, int]
    suppliers: list[Org] = field(default_factory=list)
    firms_by_field: dict[str, list[Org]] = field(default_factory=dict)
    agencies: list[Org] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def take_id(self, table: str) -> int:
        self.next_ids[table] += 1
        return self.next_ids[table]


class Generator:
    """The seeded draws of one world: its random stream, fake names, field vocabularies and places."""

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


def batches(rows: list[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
