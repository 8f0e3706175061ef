"""Creates users with API tokens (only hashes are stored), authenticates and revokes them."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import Conflict, InvalidInput, NotFound
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
    user = User(name=name.strip(), role=role.value, organisation_id=organisation_id, token_hash=hash_token(token),
                token_expires_at=_token_expiry())
    session.add(user)
    session.flush()
    if role is v.Role.BROKER:
        session.add(Broker(user_id=user.id, name=user.name, agency_id=organisation_id,
                           level=v.BrokerLevel.JUNIOR.value, region_code=organisation.region_code))
        session.flush()
    return user, token


TOKEN_DAYS = 180   # an API token works this long; rotate it (API or CLI) before it runs out


def _token_expiry() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=TOKEN_DAYS)


def authenticate(session: Session, token: str) -> Actor | None:
    """The token's user, unless the token is unknown, revoked or past its expiry."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    user = session.scalar(select(User).where(User.token_hash == hash_token(token), User.revoked_at.is_(None)))
    if user is None:
        return None
    expires = user.token_expires_at
    if expires is not None and (expires if expires.tzinfo else expires.replace(tzinfo=dt.UTC)) <= dt.datetime.now(dt.UTC):
        return None
    broker_id = session.scalar(select(Broker.id).where(Broker.user_id == user.id)) if user.role == "broker" else None
    return Actor(user.id, v.Role(user.role), user.organisation_id, broker_id)


def revoke_token(session: Session, *, user_id: int) -> User:
    """The user can no longer call the API (nor log in). The last working admin cannot be revoked: the platform
    would have nobody left to manage it."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    if user.role == v.Role.ADMIN.value and user.revoked_at is None:
        others = session.scalar(select(func.count()).select_from(User).where(
            User.role == v.Role.ADMIN.value, User.revoked_at.is_(None), User.id != user.id))
        if not others:
            raise Conflict("this is the last active admin; create another admin before revoking this one")
    user.revoked_at = dt.datetime.now(dt.UTC)
    return user


def rotate_token(session: Session, *, user_id: int) -> str:
    """A new token for an existing user, valid TOKEN_DAYS; the old one stops working at once."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    user.token_hash, user.revoked_at, user.token_expires_at = hash_token(token), None, _token_expiry()
    return token


# ---------------------------------------------------------------- password login (pages)

# scrypt as OWASP suggests for interactive logins: 16 MiB of memory per check, about 50 ms.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$hash` (hex), so the cost can be raised later without breaking old hashes."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                                  dklen=len(digest) // 2)
    except ValueError:
        return False
    return secrets.compare_digest(computed.hex(), digest)


def set_password(session: Session, user_id: int, password: str) -> User:
    """Give a user a page-login password (stored as a salted scrypt hash)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.on("password", f"at least {MIN_PASSWORD_LENGTH} characters")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    user.password_hash = hash_password(password)
    session.flush()
    return user


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not a password", salt=b"0" * 16)


def verify_login(session: Session, name_or_id: str, password: str) -> Actor | None:
    """The Actor whose name (or numeric id) and password match, else None; revoked users cannot log in."""
    login = name_or_id.strip()
    query = select(User).where(User.password_hash.is_not(None), User.revoked_at.is_(None))
    by_name = query.where(User.name == login)
    users = list(session.scalars(query.where(User.id == int(login)) if login.isdigit() else by_name))
    if login.isdigit() and not users:
        users = list(session.scalars(by_name))
    if not users:
        password_matches(password, _dummy_hash())  # same work as a real check: timing does not reveal unknown names
        return None
    for user in users:  # names are not unique; the password picks the account
        if password_matches(password, user.password_hash):
            broker_id = session.scalar(select(Broker.id).where(Broker.user_id == user.id)) if user.role == "broker" else None
            return Actor(user.id, v.Role(user.role), user.organisation_id, broker_id)
    return None


def actor_of(session: Session, user_id: int) -> Actor | None:
    """The Actor of a logged-in page session's user, or None when the user is gone or revoked."""
    user = session.get(User, user_id)
    if user is None or user.revoked_at is not None:
        return None
    broker_id = session.scalar(select(Broker.id).where(Broker.user_id == user.id)) if user.role == "broker" else None
    return Actor(user.id, v.Role(user.role), user.organisation_id, broker_id)
