"""Deals after the claim: each month a firm and an office move on, call it off, let it lapse or sign a contract."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.brokerage.contracts import sign_contract
from matchmaker.brokerage.registry import register
from matchmaker.db import hold
from matchmaker.brokerage.pipelines import move_pipeline
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement, Demand, Pipeline, PriceNotice
from matchmaker.simulation.agents import BrokerAgent, Deal, MonthFigures
from matchmaker.simulation.pricing import Pricing
from matchmaker.trading.price_notices import notice_required, record_notice, runs_on

DECLINE_BASE = 0.12  # monthly chance a stalled, fully compatible deal is called off (assumption)
MODE_TO_CONTRACT = {
    "transfer": v.ContractType.TRANSFER, "licence": v.ContractType.LICENCE, "equity": v.ContractType.TRANSFER,
    "co_development": v.ContractType.DEVELOPMENT, "service": v.ContractType.SERVICE,
}


class Negotiation(Pricing):
    """The deals half of the market: each month every open deal moves a stage on, is called off, lapses or signs.

    Market mixes it in and provides the attributes and the two methods declared here.
    """

    deals: list[Deal]
    fits: dict[tuple[int, int], int]  # (demand id, achievement id) → latent fit level
    admin: Actor  # lapses the deals whose records closed or that stalled
    home_province: str | None
    agency_turnover: dict[int, Decimal]

    def _effort(self, broker: BrokerAgent) -> float:
        raise NotImplementedError  # the Market's brokers work harder under the agency reward

    def _negotiate(self, session: Session, day: dt.date, fair: bool, figures: MonthFigures) -> None:
        lapse_after = self.lever("negotiation", "lapse_after_months") + (
            self.lever("policy", "fair_lapse_months_extra") if self.lever("policy", "fair_every_months") else 0)
        still_open = []
        for model, key in ((Demand, "demand_id"), (Achievement, "achievement_id"), (Pipeline, "pipeline_id")):
            hold(session, model, [getattr(deal, key) for deal in self.deals])
        for deal in self.deals:
            outcome = self._month_of(session, deal, day, fair, lapse_after, figures)
            if outcome == "open":
                still_open.append(deal)
        self.deals = still_open

    def _month_of(self, session, deal: Deal, day: dt.date, fair: bool, lapse_after: int, figures: MonthFigures) -> str:
        demand = session.get(Demand, deal.demand_id)
        achievement = session.get(Achievement, deal.achievement_id)
        if demand.status != v.DemandStatus.PUBLISHED or achievement.status != v.AchievementStatus.PUBLISHED:
            return self._end(session, deal, v.PipelineStage.LAPSED, day, "记录已关闭", figures)
        if not _on_offer(demand, achievement, day):
            return self._end(session, deal, v.PipelineStage.LAPSED, day, "记录已到期", figures)
        next_stage = v.NEXT_STAGE[v.PipelineStage(deal.stage)]
        odds = self._odds(deal, demand, achievement, next_stage, fair)
        p = _scaled(self._base_probability(next_stage), odds)
        draw = deal.rng.random()
        if draw < p:
            if next_stage is v.PipelineStage.SIGNED:
                return self._sign(session, deal, demand, achievement, day, figures)
            at = deal.next_at(day)
            if at is None:
                return "open"   # the month's last day already holds its latest event: it moves next month
            move_pipeline(session, actor=deal.broker.actor, pipeline_id=deal.pipeline_id,
                          to_stage=next_stage.value, note="模拟推进", at=at, flush=False)
            deal.stage, deal.idle_months, deal.last_at = next_stage.value, 0, at
            setattr(figures, next_stage.value, getattr(figures, next_stage.value) + 1)
            if next_stage is v.PipelineStage.NEGOTIATING:
                self._publish_notice(session, deal, demand, achievement)
            return "open"
        if draw < p + DECLINE_BASE * min(3.0, max(0.5, 1 / odds)):
            return self._end(session, deal, v.PipelineStage.DECLINED, day, "企业未采纳", figures)
        deal.idle_months += 1
        if deal.idle_months >= lapse_after:
            return self._end(session, deal, v.PipelineStage.LAPSED, day, "长期无进展", figures)
        return "open"

    def _base_probability(self, stage: v.PipelineStage) -> float:
        key = {v.PipelineStage.CONTACTED: "contact", v.PipelineStage.NEGOTIATING: "negotiate",
               v.PipelineStage.SIGNED: "sign"}[stage]
        return self.lever("negotiation", key)

    def _odds(self, deal: Deal, demand: Demand, achievement: Achievement, next_stage, fair: bool) -> float:
        """What makes a firm and an office move on: true fit, stage, price, distance, payment, broker skill."""
        lever = self.lever
        level = self.fits.get((deal.demand_id, deal.achievement_id), 1)
        odds = lever("negotiation", "fit_odds")[level - 1] * lever("brokers", "skill")[deal.broker.level]
        if achievement.trl is not None and demand.min_trl is not None and achievement.trl < demand.min_trl:
            odds *= lever("negotiation", "trl_gap_odds") ** (demand.min_trl - achievement.trl)
        if achievement.asking_price is not None and demand.budget_max is not None \
                and achievement.asking_price > demand.budget_max:
            odds *= lever("negotiation", "over_budget_odds")
        seller, buyer = achievement.region_code or "", demand.region_code or ""
        if seller[:2] != buyer[:2]:
            odds *= lever("negotiation", "other_province_odds")
        else:
            odds *= lever("policy", "local_incentive_odds")
            if seller[:4] != buyer[:4]:
                odds *= lever("negotiation", "other_city_odds")
        if achievement.use_first_pay_later and next_stage is v.PipelineStage.SIGNED:
            odds *= lever("negotiation", "use_first_pay_later_odds")
        if demand.is_challenge:
            odds *= lever("policy", "bounty_odds")
        if fair and next_stage is v.PipelineStage.NEGOTIATING:
            odds *= lever("policy", "fair_negotiate_odds")
        if next_stage is v.PipelineStage.SIGNED:
            odds *= self.pricing_odds(achievement, demand)
        return odds * self._effort(deal.broker)

    def _publish_notice(self, session: Session, deal: Deal, demand: Demand, achievement: Achievement) -> None:
        """协议定价公示: a university's or institute's office publishes the price it is negotiating on the day the
        deal reaches negotiation; the platform refuses a transfer or licence of such an achievement before the
        notice has ended, so the deal signs no earlier."""
        if not notice_required(session, achievement, v.ContractType.TRANSFER.value):
            return
        notice = record_notice(session, achievement, buyer_id=demand.organisation_id, starts_on=deal.last_at.date(),
                               price=max(Decimal(round(self._reference(demand, achievement), -2)), Decimal(100)))
        deal.notice_ends_on = notice.ends_on

    @staticmethod
    def _reference(demand: Demand, achievement: Achievement, contract_type: v.ContractType = v.ContractType.TRANSFER) -> float:
        """What the parties haggle from. Rights to a result (a transfer or licence) are priced by the seller's asking
        price, capped by what the firm can pay; work on the firm's problem (development, service, consulting) is
        sized by the firm's budget for it — which is why such contracts are the larger ones in the statistics."""
        if contract_type in (v.ContractType.TRANSFER, v.ContractType.LICENCE) or demand.budget_max is None:
            reference = float(achievement.asking_price or demand.budget_max or 300_000)
            return min(reference, float(demand.budget_max) * 1.2) if demand.budget_max is not None else reference
        return float(demand.budget_max)

    def _end(self, session, deal: Deal, stage: v.PipelineStage, day: dt.date, note: str, figures) -> str:
        actor = deal.broker.actor if stage is not v.PipelineStage.LAPSED else self.admin
        at = deal.next_at(day) or deal.last_at   # called off on the day of its last event if the month is spent
        # The run is the only writer: its moves wait for one flush together (brokerage.pipelines.move_pipeline).
        move_pipeline(session, actor=actor, pipeline_id=deal.pipeline_id, to_stage=stage.value, note=note, at=at,
                      flush=False)
        setattr(figures, stage.value, getattr(figures, stage.value) + 1)
        return stage.value

    @staticmethod
    def _signing_moment(session: Session, deal: Deal, day: dt.date) -> dt.datetime | None:
        """A day this month after the deal's own notice has ended and outside any other buyer's running notice on
        the achievement (the platform refuses a signing while one runs); None if the month has none left."""
        earliest = deal.notice_ends_on
        notices = session.scalars(select(PriceNotice).where(PriceNotice.achievement_id == deal.achievement_id)).all()
        for _ in range(len(notices) + 1):
            at = deal.next_at(day, earliest=earliest)
            if at is None:
                return None
            running = [n.ends_on for n in notices if runs_on(n, at.date())]   # the platform's own rule
            if not running:
                return at
            earliest = max(running)
        return None

    def _sign(self, session, deal: Deal, demand: Demand, achievement: Achievement, day: dt.date, figures) -> str:
        at = self._signing_moment(session, deal, day)
        if at is None:
            return "open"   # agreed, but a price notice runs past the month's end: it signs next month
        signed_on = at.date()
        if not _on_offer(demand, achievement, signed_on):   # expired between the month's start and the signing day
            return self._end(session, deal, v.PipelineStage.LAPSED, day, "记录已到期", figures)
        rng = deal.rng
        shared = sorted(set(map(str, achievement.transfer_modes or ())) & set(map(str, demand.cooperation_modes or ())))
        mode = rng.choice(shared) if shared else rng.choice(sorted(map(str, achievement.transfer_modes or ())) or ["service"])
        contract_type = MODE_TO_CONTRACT[mode]
        if contract_type is v.ContractType.SERVICE and rng.random() < self.lever("contracts", "consulting_share"):
            contract_type = v.ContractType.CONSULTING   # 技术咨询: a feasibility study or an expert opinion
        licence_scope = None
        if contract_type is v.ContractType.LICENCE:
            scopes = self.lever("contracts", "licence_scope_shares")
            licence_scope = rng.choices(list(scopes), weights=list(scopes.values()))[0]
        reference = self._reference(demand, achievement, contract_type)
        amount = self.price(achievement, reference, rng.uniform(0.7, 1.0), rng)
        certified = (amount * Decimal(str(round(rng.uniform(0.85, 1.0), 2)))).quantize(Decimal("0.01"))
        trial_ends_on = None
        if achievement.use_first_pay_later and rng.random() < 0.7:
            months = rng.choice(self.lever("contracts", "trial_months"))
            payment, trial_ends_on = v.PaymentMode.USE_FIRST_PAY_LATER, signed_on + dt.timedelta(days=round(months * 30.4))
        elif mode == "equity":
            payment = v.PaymentMode.EQUITY
        else:
            payment = rng.choice([v.PaymentMode.LUMP_SUM, v.PaymentMode.INSTALMENTS, v.PaymentMode.ROYALTY])
        # A transfer (作价入股 included) moves the rights, as does an exclusive licence: the achievement is off offer.
        exclusive = contract_type is v.ContractType.TRANSFER or licence_scope == v.LicenceScope.EXCLUSIVE.value
        contract = sign_contract(
            session, actor=deal.broker.actor, pipeline_id=deal.pipeline_id, contract_type=contract_type.value,
            amount=amount, payment_mode=payment.value, signed_on=signed_on, licence_scope=licence_scope,
            trial_ends_on=trial_ends_on, exclusive=exclusive, close_demand=rng.random() < 0.6, note="签约", at=at)
        # A simulated registrar registers it within three weeks and certifies the 技术交易额 then, as a registration
        # office does: simulated figures and the registry's statistics read the same rows.
        register(session, actor=self.admin, contract_id=contract.id,
                 today=signed_on + dt.timedelta(days=rng.randint(1, 21)), certified_amount=certified)
        figures.signed += 1
        figures.turnover_yuan += amount
        same_province = contract.seller_region_code[:2] == contract.buyer_region_code[:2]
        figures.local_signed += same_province
        if self.home_province and contract.seller_region_code[:2] == self.home_province[:2]:
            figures.home_seller_signed += 1
            figures.home_local_signed += contract.buyer_region_code[:2] == self.home_province[:2]
        self.agency_turnover[deal.broker.agency_id] += amount
        return "signed"


def _on_offer(demand: Demand, achievement: Achievement, day: dt.date) -> bool:
    """Neither posting has expired by `day`: only then may the deal move or be signed."""
    return not ((achievement.expires_on is not None and achievement.expires_on < day)
                or (demand.deadline is not None and demand.deadline < day))


def _scaled(p: float, odds: float) -> float:
    """Scale a probability by an odds ratio (keeps it inside 0..1 however large the multiplier)."""
    p = min(max(p, 1e-9), 1 - 1e-9)
    return p * odds / (1 - p + p * odds)
