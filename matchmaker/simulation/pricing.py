"""Pricing modes in the simulated market (issue 16; seed 002: 健全协议定价、挂牌交易、拍卖、资产评估等多元化交易定价模式).

A scenario may offer a share of achievements by fixed-price listing (挂牌) and a share by auction (拍卖); the rest
are negotiated (协议定价), as every achievement is in the baseline. The mode changes the last step of a deal and its
price, by levers that are assumptions (stated in baseline.toml): a listed price is paid as posted — no haggling,
which helps a deal close, but a listed price above the firm's budget is not negotiable; an auction closes a little
less often (the reserve is not met, a rival outbids) at a price above the reference, from open bidding.
A chosen mode is written to the achievement's pricing_mode, so the platform's records say how it was offered.
"""

from __future__ import annotations

import random
from decimal import Decimal

from matchmaker import vocabulary as v
from matchmaker.models import Achievement, Demand

NEGOTIATED, LISTED, AUCTION = (v.PricingMode.NEGOTIATED.value, v.PricingMode.LISTED.value, v.PricingMode.AUCTION.value)


class Pricing:
    """Mixed into the Market: which mode each achievement is offered by, and what the mode does to a deal."""

    pricing: dict[int, str]

    def lever(self, section: str, key: str):
        raise NotImplementedError  # the Market reads its scenario

    def stream(self, *key) -> random.Random:
        raise NotImplementedError  # the Market keys its random numbers

    def pricing_mode(self, achievement: Achievement) -> str:
        """Drawn once per achievement, from its own stream, when the scenario offers listings or auctions."""
        mode = self.pricing.get(achievement.id)
        if mode is None:
            listed, auction = self.lever("pricing", "listed_share"), self.lever("pricing", "auction_share")
            mode = NEGOTIATED
            if listed or auction:
                draw = self.stream("pricing", achievement.id).random()
                mode = LISTED if draw < listed else AUCTION if draw < listed + auction else NEGOTIATED
                if mode != NEGOTIATED:
                    achievement.pricing_mode = mode
            self.pricing[achievement.id] = mode
        return mode

    def pricing_odds(self, achievement: Achievement, demand: Demand) -> float:
        """The odds multiplier on signing, by the achievement's mode."""
        mode = self.pricing_mode(achievement)
        if mode == LISTED:
            odds = self.lever("pricing", "listed_sign_odds")
            if achievement.asking_price is not None and demand.budget_max is not None \
                    and achievement.asking_price > demand.budget_max:
                odds *= self.lever("pricing", "listed_over_budget_odds")
            return odds
        if mode == AUCTION:
            return self.lever("pricing", "auction_sign_odds")
        return 1.0

    def price(self, achievement: Achievement, reference: float, haggled: float, rng: random.Random) -> Decimal:
        """The contract amount: negotiated as haggled, a listing at its posted price, an auction's hammer price."""
        mode = self.pricing_mode(achievement)
        if mode == LISTED and achievement.asking_price is not None:
            return Decimal(achievement.asking_price).quantize(Decimal("0.01"))
        if mode == AUCTION:
            low, high = self.lever("pricing", "auction_premium")
            return Decimal(round(reference * rng.uniform(low, high), -2))
        return Decimal(round(reference * haggled, -2))
