"""Creates users with API tokens (only hashes are stored), authenticates and revokes them."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import InvalidInput, NotFound
from matchmaker.models import Broker, Organisation, User

TOKEN_PREFIX = "mm_"


@dataclass(frozen=True)
class Actor:
    """Who is calling: the user, their role and organisation, and their broker record when a broker."""

    user_id: int
    role: v.Role
    organisation_id: int
    broker_id: int | None = None

    def is_(self, *roles: v.Role) -> bool:
        return self.role in roles


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, *, role: str, organisation_id: int, name: str) -> tuple[User, str]:
    """Create a user and return it with a new token, shown once; a broker also gets a broker record."""
    try:
        role = v.Role(role)
    except ValueError:
        raise InvalidInput.on("role", f"unknown role {role!r} (allowed: {', '.join(v.values(v.Role))})") from None
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise InvalidInput.on("organisation_id", f"organisation {organisation_id} not found")
    if not name.strip():
        raise InvalidInput.on("name", "required")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    user = User(name=name.strip(), role=role.value, organisation_id=organisation_id, token_hash=hash_token(token))
    session.add(user)
    session.flush()
    if role is v.Role.BROKER:
        session.add(Broker(user_id=user.id, name=user.name, agency_id=organisation_id,
                           level=v.BrokerLevel.JUNIOR.value, region_code=organisation.region_code))
        session.flush()
    return user, token


def authenticate(session: Session, token: str) -> Actor | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    user = session.scalar(select(User).where(User.token_hash == hash_token(token), User.revoked_at.is_(None)))
    if user is None:
        return None
    broker_id = session.scalar(select(Broker.id).where(Broker.user_id == user.id)) if user.role == "broker" else None
    return Actor(user.id, v.Role(user.role), user.organisation_id, broker_id)


def revoke_token(session: Session, *, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    user.revoked_at = dt.datetime.now(dt.UTC)
    return user


def rotate_token(session: Session, *, user_id: int) -> str:
    """A new token for an existing user; the old one stops working."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    user.token_hash, user.revoked_at = hash_token(token), None
    return token
