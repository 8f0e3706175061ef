"""Regional sub-markets: an analyst or admin may belong to a region (province → city → county) and then sees,
reviews and analyses only what lies inside it; a province sees all of its cities. No region = the whole platform.

Firms, offices and brokers act for their organisation; the market does not narrow what they see.
"""

from __future__ import annotations

from matchmaker import vocabulary as v
from matchmaker.errors import Forbidden
from matchmaker.identity.services import Actor
from matchmaker.regions import RegionCode

SCOPED_ROLES = (v.Role.ANALYST,)   # platform admins stand above every market


def market_of(actor: Actor) -> RegionCode | None:
    """The region the actor's work is confined to, or None for the whole platform."""
    if actor.role in SCOPED_ROLES and actor.region_code:
        return RegionCode(actor.region_code)
    return None


def in_market(actor: Actor, code: str | None) -> bool:
    market = market_of(actor)
    return market is None or market.contains(code)


def narrow_region(actor: Actor, requested: str | None) -> str | None:
    """The region a report covers: the one asked for when it lies in the actor's market, the market itself when
    none was asked for; a region outside the market is refused."""
    market = market_of(actor)
    if market is None:
        return requested
    if requested is None:
        return market.code
    if not market.contains(requested):
        raise Forbidden(f"地区 {requested} 不在您负责的地区（{market.code}）之内，请改选您负责地区之内的地区")
    return requested


def market_condition(actor: Actor, column):
    """`column` lies in the actor's market, as SQL; None when the actor's market is the whole platform."""
    market = market_of(actor)
    return None if market is None else market.condition(column)


def any_in_market(actor: Actor, *columns):
    """Any of these region columns lies in the market (a contract belongs to the seller's and the buyer's region)."""
    from sqlalchemy import or_

    market = market_of(actor)
    return None if market is None else or_(*(market.condition(column) for column in columns))
