"""A run's headline figures, read from its database through the analytics services (the analysts' definitions)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from matchmaker.analytics.funnel import funnel as deal_funnel
from matchmaker.analytics.league import broker_league
from matchmaker.analytics.local_conversion import local_conversion
from matchmaker.analytics.turnover import turnover as contract_turnover
from matchmaker.simulation.agents import money


def summarise(session: Session, result, *, home_province: str | None) -> dict:
    """contracts, turnover_yuan, local_conversion_rate (of the home province's achievements), funnel, brokers."""
    report = contract_turnover(session, by=("period",), period="month")
    contracts = sum(row.contracts for row in report.rows)
    turnover = sum((Decimal(row.amount) for row in report.rows), Decimal(0))
    certified = sum((Decimal(row.certified_amount) for row in report.rows), Decimal(0))
    everywhere = local_conversion(session, level="province")
    # A region's report has that region's overall row, so the share over all contracts comes from the report
    # without one (it once came from the home province's and said, say, 0.465 where all contracts gave 0.386).
    conversion = local_conversion(session, level="province", region=home_province) if home_province else everywhere
    home = conversion.rows[0] if home_province and conversion.rows else conversion.overall
    funnel = deal_funnel(session)
    league = broker_league(session, limit=10)
    return {
        "contracts": contracts,
        "turnover_yuan": money(turnover),     # money is an exact decimal string, never a float
        "certified_yuan": money(certified),
        # Of the contracts selling the home province's achievements, the share bought inside the province.
        "local_conversion_rate": home.rate_by_count,
        "local_conversion_rate_by_amount": home.rate_by_amount,
        "same_province_share_all_contracts": everywhere.overall.rate_by_count,
        "funnel": {step.stage: {"count": step.count, "conversion": step.conversion_from_previous,
                                "median_days": step.median_days_from_previous} for step in funnel.steps},
        "match_to_signed": funnel.match_to_signed,
        "median_days_claim_to_signed": funnel.median_days_claim_to_signed,
        "brokers": result.brokers,
        "top_brokers": [{"broker_id": b.broker_id, "name": b.name, "signed": b.signed,
                         "credit_score": getattr(b, "credit_score", None)} for b in league],
        "agency_rewards_yuan": money(result.agency_rewards_yuan),
        "home_province": home_province,
    }
