"""The agent-based market: months of postings, brokers' claims from the live matcher, then the deals' turn."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from rich.progress import Progress
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from matchmaker import vocabulary as v
from matchmaker.brokerage.pipelines import claim_pipeline, holders_read_together
from matchmaker.catalog import services as catalog
from matchmaker.catalog.review import approve_record
from matchmaker.catalog.specs import ACHIEVEMENTS, DEMANDS
from matchmaker.config import Settings
from matchmaker.db import hold, id_batches
from matchmaker.errors import DomainError
from matchmaker.identity.services import Actor, create_user
from matchmaker.matching import saved_matcher
from matchmaker.matching.service import MatchingService
from matchmaker.models import Achievement, Broker, Demand, LatentFit, Organisation, Pipeline, User
from matchmaker.notices.services import notices_written_together, remember_organisation_users
from matchmaker.regions import province_of
from matchmaker.simulation.agents import BrokerAgent, Deal, MonthFigures, on_day
from matchmaker.simulation.negotiation import Negotiation
from matchmaker.simulation.scenarios import Scenario
from matchmaker.world.generate import extend_world
from matchmaker.world.organisations import PoolRows

SIM_START = dt.date(2026, 7, 1)  # the month after the generated world's date
CANDIDATES_PER_DEMAND = 3  # a broker looks at the top few matches of a demand, as a work queue shows them
CLAIM_CHUNK = 1_000       # claims made between reads of the ranking: each chunk's achievements are held in one query


@dataclass
class MarketResult:
    months: list[MonthFigures]
    agency_rewards_yuan: Decimal
    brokers: int
    home_province: str | None


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    return dt.date(day.year + index // 12, index % 12 + 1, 1)


class Market(Negotiation):
    """One run: a world database, a scenario, a seed; every action goes through the API's services."""

    def __init__(self, engine: Engine, scenario: Scenario, seed: int, *, index_dir: Path, home_province: str | None,
                 common_random_numbers: bool = True, world_matcher: Path | None = None, rank_processes: int = 0):
        self.engine = engine
        self.scenario = scenario
        self.seed = seed
        self.common_random_numbers = common_random_numbers
        self.factory: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        settings = Settings(database_url=str(engine.url.render_as_string(hide_password=False)), index_dir=index_dir,
                            rank_processes=rank_processes)
        self.day = SIM_START   # the simulated calendar's day: what is open to match is read against it
        # The run's index dies with it; it reads the records' dates against the simulated month, not the day the run
        # happens to be made (a sweep across midnight gave different figures for the same seeds).
        self.matching = MatchingService(settings, self.factory, autosave=False, today=lambda: self.day)
        self.world_matcher = world_matcher
        self.home_province = home_province
        self.deals: list[Deal] = []
        self.pools: PoolRows | None = None   # the world's organisations and their fields, read once (extend_world)
        self.ranked: dict[int, list] = {}  # demand id → its top (achievement id, score) pairs, ranked once (a work queue)
        self.claims_per_demand: dict[int, int] = defaultdict(int)
        self.agency_turnover: dict[int, Decimal] = defaultdict(Decimal)
        self.fits: dict[tuple[int, int], int] = {}
        self.pricing: dict[int, str] = {}   # achievement id → how it is offered (pricing.Pricing)

    # ---------------------------------------------------------------------------------------------- setup
    def lever(self, section: str, key: str):
        return self.scenario.get(section, key)

    def stream(self, *key) -> random.Random:
        """The random numbers of one agent or event (a month's postings, a broker's month, a deal), keyed by the
        seed and what it is for — not by the scenario, so two scenarios run on one seed draw the same numbers for
        the same things (common random numbers) and their difference is the levers', not the dice's. Without
        `common_random_numbers` the scenario's name joins the key: independent streams, for measuring the gain."""
        prefix = (self.seed,) if self.common_random_numbers else (self.seed, self.scenario.name)
        return random.Random(":".join(map(str, prefix + key)))

    def setup(self) -> None:
        with self.factory() as session, session.begin():
            self.admin = self._admin(session)
            self.brokers = self._broker_agents(session)
            self._prepare_world(session)
            self.fits = {(d, a): level for d, a, level in session.execute(
                select(LatentFit.demand_id, LatentFit.achievement_id, LatentFit.level))}
            self.initial_achievements = session.scalar(
                select(func.count()).select_from(Achievement).where(Achievement.status == v.AchievementStatus.PUBLISHED))
            self.initial_demands = session.scalar(
                select(func.count()).select_from(Demand).where(Demand.status == v.DemandStatus.PUBLISHED))
        self._start_matcher()

    def _start_matcher(self) -> None:
        """The world's matcher on the first simulated day is the same for every run on that world (no lever touches
        what it indexes), so it is built once, kept beside the world file, and each run loads a copy of it, as a
        platform restarting on its saved index does (a build was 5% of a province year, py-spy)."""
        if self.world_matcher is not None and (self.world_matcher / "state.json").exists():
            saved_matcher.copy_saved(self.world_matcher, self.matching.directory,
                                     database_url=self.matching.settings.database_url)
        self.matching.start()   # loads the copy, or builds when there is none or it does not fit this code
        if self.world_matcher is not None and self.matching.builds:
            self.matching.save()
            saved_matcher.copy_saved(self.matching.directory, self.world_matcher)

    def _admin(self, session: Session) -> Actor:
        department = session.scalar(select(Organisation.id).where(Organisation.kind == "government").limit(1))
        user, _ = create_user(session, role="admin", organisation_id=department, name="模拟审核员")
        return Actor(user.id, v.Role.ADMIN, department)

    def _broker_agents(self, session: Session) -> list[BrokerAgent]:
        rows = session.execute(select(Broker, User).join(User, User.id == Broker.user_id).order_by(Broker.id)).all()
        extra = round(len(rows) * (self.lever("brokers", "broker_multiplier") - 1))
        rng = self.stream("new-brokers")
        for i in range(max(0, extra)):
            # Newly certified brokers join existing agencies, as a training programme would place them.
            template, _ = rows[rng.randrange(len(rows))]
            create_user(session, role="broker", organisation_id=template.agency_id, name=f"新认证经纪人{i + 1}")
        if extra > 0:
            rows = session.execute(select(Broker, User).join(User, User.id == Broker.user_id).order_by(Broker.id)).all()
        agents = []
        for broker, user in rows:
            region = broker.region_code or session.get(Organisation, broker.agency_id).region_code or "000000"
            actor = Actor(user.id, v.Role.BROKER, user.organisation_id, broker.id)
            agents.append(BrokerAgent(broker.id, actor, broker.agency_id, broker.level, province_of(region)))
        return agents

    def _prepare_world(self, session: Session) -> None:
        """World-level levers set before trading starts (a policy that changed what offices offer)."""
        share = self.lever("negotiation", "use_first_pay_later_share")
        ids = list(session.scalars(select(Achievement.id).order_by(Achievement.id)))
        rng = self.stream("use-first-pay-later")  # one draw per achievement: a larger share offers a superset
        chosen = {i for i in ids if rng.random() < share}
        session.execute(update(Achievement).values(use_first_pay_later=False))
        for batch in id_batches(sorted(chosen)):
            session.execute(update(Achievement).where(Achievement.id.in_(batch)).values(use_first_pay_later=True))

    # ---------------------------------------------------------------------------------------------- months
    def run(self, months: int, progress: Progress | None = None) -> MarketResult:
        self.setup()
        figures = []
        task = progress.add_task(f"{self.scenario.name} seed {self.seed}", total=months) if progress else None
        for month in range(months):
            day = self.day = add_months(SIM_START, month)
            figures.append(self.step(month, day))
            if progress:
                progress.advance(task)
        rewards = self._agency_rewards()
        return MarketResult(figures, rewards, len(self.brokers), self.home_province)

    def step(self, month: int, day: dt.date) -> MonthFigures:
        figures = MonthFigures(day.strftime("%Y-%m"))
        self._post(month, day)
        self.matching.sync()
        fair = self._fair_month(month)
        with self.factory() as session, session.begin(), notices_written_together(session):
            remember_organisation_users(session)   # the run adds no users after setup
            self._pilot_bases(session, day)
            self._claims(session, day, fair, figures)
            self._negotiate(session, day, fair, figures)
        return figures

    def _fair_month(self, month: int) -> bool:
        every = self.lever("policy", "fair_every_months")
        return bool(every) and (month + 1) % every == 0

    def _post(self, month: int, day: dt.date) -> None:
        """Offices and firms post; the department reviews and publishes (which pushes matches to counterparts)."""
        rng = self.stream("postings", month)
        n_achievements = _poisson(rng, self.initial_achievements * self.lever("market", "achievement_posting_rate"))
        n_demands = _poisson(rng, self.initial_demands * self.lever("market", "demand_posting_rate"))
        with self.factory() as session, session.begin(), notices_written_together(session):
            remember_organisation_users(session)
            conn = session.connection()
            self.pools = self.pools or PoolRows.read(conn)
            achievement_ids, demand_ids = extend_world(conn, key=f"{self.seed}-{month}", demands=n_demands,
                                                       achievements=n_achievements, posted_on=day, rng=rng,
                                                       pools=self.pools)
            challenge_share = self.lever("market", "challenge_share")
            for demand_id in demand_ids:
                if rng.random() < challenge_share:
                    demand = session.get(Demand, demand_id)
                    demand.is_challenge = True
                    demand.bounty = (demand.budget_max or Decimal(0)) * 2
            for spec, ids in ((ACHIEVEMENTS, achievement_ids), (DEMANDS, demand_ids)):
                hold(session, spec.model, ids)
                for record_id in ids:
                    approve_record(session, actor=self.admin, spec=spec, record_id=record_id, today=day, flush=False)
            self.fits.update({(d, a): level for d, a, level in session.execute(
                select(LatentFit.demand_id, LatentFit.achievement_id, LatentFit.level)
                .where(LatentFit.demand_id.in_(demand_ids or [-1])))})

    def _pilot_bases(self, session: Session, day: dt.date) -> None:
        share, uplift = self.lever("policy", "pilot_base_share"), self.lever("policy", "pilot_base_trl_uplift")
        if not share or not uplift:
            return
        # A pilot base or proof-of-concept centre takes a share of the year's candidates each month.
        candidates = list(session.scalars(select(Achievement).where(Achievement.status == v.AchievementStatus.PUBLISHED,
                                                                    Achievement.trl < 9).order_by(Achievement.id)))
        for achievement in candidates:
            if self.stream("pilot-base", achievement.id, day).random() < share / 12:
                achievement.trl = min(9, achievement.trl + uplift)
                catalog.log_index_change(session, ACHIEVEMENTS, achievement.id)

    # ---------------------------------------------------------------------------------------------- brokers
    def _claims(self, session: Session, day: dt.date, fair: bool, figures: MonthFigures) -> None:
        # Ids and regions, not records: only the month's planned claims need theirs, held below. (Every open demand
        # held — 200,000 nationally — once made each refused claim's savepoint rollback pass over all of them: 13% of
        # a 30 s py-spy sample of the national world's first month; claims no longer take a savepoint.)
        open_demands = session.execute(
            select(Demand.id, Demand.region_code).where(Demand.status == v.DemandStatus.PUBLISHED,
                                                        (Demand.deadline.is_(None)) | (Demand.deadline >= day))
            .order_by(Demand.id)).all()
        by_province: dict[str, list[int]] = defaultdict(list)
        for demand_id, region_code in open_demands:
            if self.claims_per_demand[demand_id] < CANDIDATES_PER_DEMAND:
                by_province[province_of(region_code or "000000")].append(demand_id)
        if not by_province:
            return
        outside_weight = self.lever("brokers", "outside_demand_weight")
        planned = []   # (broker, demand, moment): drawn first, so the month's new demands are ranked together
        for broker in self.brokers:
            rng = self.stream("broker-month", broker.broker_id, day)
            local = by_province.get(broker.province, [])
            outside = [p for p in by_province if p != broker.province]
            n_outside = sum(len(by_province[p]) for p in outside)
            # A claim lands on another province's demand in proportion to how many there are, times the pull.
            p_outside = outside_weight * n_outside / (len(local) + outside_weight * n_outside or 1)
            for _ in range(self._capacity(rng, broker, fair)):
                if outside and rng.random() < p_outside:
                    pool = by_province[_pick_weighted(rng, outside, by_province)]
                else:
                    pool = local or by_province[_pick_weighted(rng, outside, by_province)]
                planned.append((broker, pool[rng.randrange(len(pool))], on_day(day, rng.randint(1, 28))))
        planned_demands = [demand_id for _, demand_id, _ in planned]
        # The month's records in a few IN (…) queries, kept by the session: without them each claim read its demand
        # and its achievement one query each, since a session forgets records nothing else refers to (db.hold).
        hold(session, Demand, planned_demands)
        claimed = []
        with holders_read_together(session, planned_demands), closing(self._rank_new(session, planned_demands)) as ranked:
            # The claims are made in their order while the ranking processes rank the demands further on (the parent
            # waited for the whole month's ranking before), a chunk at a time, so each chunk's achievements are
            # held in one query too. A demand is ranked when a claim first names it: the next one `ranked` gives.
            for start in range(0, len(planned), CLAIM_CHUNK):
                chunk = planned[start:start + CLAIM_CHUNK]
                for _, demand_id, _ in chunk:
                    if demand_id not in self.ranked:
                        self.ranked[demand_id] = next(ranked)
                hold(session, Achievement, self._claimed_achievements([demand_id for _, demand_id, _ in chunk]))
                claimed += [claim for broker, demand_id, at in chunk
                            if (claim := self._claim(session, broker, demand_id, at))]
        session.flush()   # the month's claims in one flush (claim_pipeline(flush=False)): now they have their ids
        for pipeline, broker, at in claimed:
            self.deals.append(Deal(pipeline.id, pipeline.demand_id, pipeline.achievement_id, broker, last_at=at,
                                   rng=self.stream("deal", pipeline.demand_id, pipeline.achievement_id)))
        figures.claimed += len(claimed)

    def _rank_new(self, session: Session, demand_ids: list[int]) -> Iterator[list]:
        """The top matches of each demand not ranked before, in the order the demands are first named, each as soon
        as it is ranked: a demand's top matches are ranked once, when a broker first looks at it, and the brokers
        act on scores, so the shared words a person reads are not computed (the ranking is the same). The month
        began with a sync."""
        new = [session.get(Demand, demand_id) for demand_id in dict.fromkeys(demand_ids) if demand_id not in self.ranked]
        return self.matching.achievement_scores_for_many(new, k=CANDIDATES_PER_DEMAND)

    def _claimed_achievements(self, demand_ids: list[int]) -> list[int]:
        """The achievement each planned claim will take (a demand's next unclaimed candidate, in order)."""
        taken, ids = defaultdict(int), []
        for demand_id in demand_ids:
            index = self.claims_per_demand[demand_id] + taken[demand_id]
            taken[demand_id] += 1
            if index < len(self.ranked[demand_id]):
                ids.append(int(self.ranked[demand_id][index][0]))
        return ids

    def _capacity(self, rng: random.Random, broker: BrokerAgent, fair: bool) -> int:
        """New pairings a broker takes on this month, at most the cap however hard a policy pushes."""
        claims = self.lever("brokers", "monthly_claims") * self._effort(broker)
        if fair:
            claims += self.lever("policy", "fair_claim_bonus")
        return min(_poisson(rng, claims), self.lever("brokers", "monthly_claim_cap"))

    def _effort(self, broker: BrokerAgent) -> float:
        """The 1‰ agency reward makes agencies on track for the threshold work harder."""
        if not self.lever("policy", "agency_reward_rate"):
            return 1.0
        if self.agency_turnover[broker.agency_id] * 2 >= self.lever("policy", "agency_reward_threshold"):
            return 1.0 + self.lever("policy", "agency_reward_effort")
        return 1.0 + self.lever("policy", "agency_reward_effort") / 2  # the prospect alone raises effort a little

    def _claim(self, session: Session, broker: BrokerAgent, demand_id: int,
               at: dt.datetime) -> tuple[Pipeline, BrokerAgent, dt.datetime] | None:
        """The broker claims the demand's next candidate; each pair at most once, as claim_pipeline(flush=False)
        asks (a demand's candidates are distinct and taken in order, across months too)."""
        matches = self.ranked[demand_id]
        index = self.claims_per_demand[demand_id]
        if index >= len(matches):
            return None
        self.claims_per_demand[demand_id] += 1
        achievement_id, score = matches[index]
        # No savepoint: claim_pipeline refuses before it writes anything (tested), and rolling a savepoint back walks
        # every record the session holds — on the national world, a month's held records times each refused claim
        # (py-spy, the second national month: 11% of the samples).
        try:
            pipeline = claim_pipeline(session, actor=broker.actor, demand_id=demand_id,
                                      achievement_id=int(achievement_id), score=score, at=at, flush=False)
        except DomainError:
            return None  # already claimed by another broker, or closed meanwhile: the broker moves on
        return pipeline, broker, at

    # ---------------------------------------------------------------------------------------------- policy
    def _agency_rewards(self) -> Decimal:
        rate = Decimal(str(self.lever("policy", "agency_reward_rate")))
        threshold = self.lever("policy", "agency_reward_threshold")
        return sum((min(rate * amount, Decimal(1_000_000)).quantize(Decimal("0.01"))
                    for amount in self.agency_turnover.values() if rate and amount >= threshold), Decimal(0))


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means; a normal approximation for large ones (postings of a big world)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _pick_weighted(rng: random.Random, provinces: list[str], by_province: dict[str, list[int]]) -> str:
    return rng.choices(provinces, weights=[len(by_province[p]) for p in provinces])[0]



def home_province_of(session: Session) -> str | None:
    return session.scalar(select(Organisation.region_code).where(Organisation.kind == "government").limit(1))
