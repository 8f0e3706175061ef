"""Creates users with API tokens (only hashes are stored), authenticates and revokes them."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, or_, select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import Conflict, Forbidden, InvalidInput, NotFound
from matchmaker.models import Broker, Organisation, Region, User
from matchmaker.regions import unknown_region

TOKEN_PREFIX = "mm_"
NO_USER = "找不到该用户，请核对用户编号"   # a missing user, wherever one is looked up by id


@dataclass(frozen=True)
class Actor:
    """Who is calling: the user, their role and organisation, and their broker record when a broker."""

    user_id: int
    role: v.Role
    organisation_id: int
    broker_id: int | None = None
    region_code: str | None = None   # an analyst's or admin's market; None = the whole platform

    def is_(self, *roles: v.Role) -> bool:
        return self.role in roles


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, *, role: str, organisation_id: int, name: str,
                region_code: str | None = None) -> tuple[User, str]:
    """Create a user and return it with a new token, shown once; a broker also gets a broker record. An analyst
    may be given a market (region_code); other roles act for their organisation and may not."""
    try:
        role = v.Role(role)
    except ValueError:
        names = "、".join(v.ROLE_NAMES[r] for r in v.values(v.Role))
        raise InvalidInput.on("role", f"“{role}”不是可选的角色，请从{names}中选择") from None
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise InvalidInput.on("organisation_id", "找不到该单位，请核对单位编号")
    if not name.strip():
        raise InvalidInput.on("name", "请填写姓名")
    if region_code is not None:
        if role is not v.Role.ANALYST:
            raise InvalidInput.on("region_code", "只有科技管理部门的账号才限定负责地区；这个角色请不要填写地区")
        if session.get(Region, region_code) is None:
            raise InvalidInput.on("region_code", unknown_region(region_code))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    user = User(name=name.strip(), role=role.value, organisation_id=organisation_id, token_hash=hash_token(token),
                token_expires_at=_token_expiry(), region_code=region_code)
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


# Built once: it runs before every API request, and building the statement cost as much as running it.
_BY_TOKEN = (select(User.id, User.role, User.organisation_id, User.region_code, User.token_expires_at,
                    Broker.id.label("broker_id"))
             .outerjoin(Broker, Broker.user_id == User.id)
             .where(User.token_hash == bindparam("token_hash"), User.revoked_at.is_(None)))


def authenticate(connection: Connection, token: str) -> Actor | None:
    """The token's user, unless the token is unknown, revoked or past its expiry. One statement on a plain
    connection, the broker's id joined, as columns: an ORM session around it tripled its cost
    (benchmarks/speed/README.md, "The suite's time", twenty-third session)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    user = connection.execute(_BY_TOKEN, {"token_hash": hash_token(token)}).first()
    if user is None:
        return None
    expires = user.token_expires_at
    if expires is not None and (expires if expires.tzinfo else expires.replace(tzinfo=dt.UTC)) <= dt.datetime.now(dt.UTC):
        return None
    return _actor(user, user.broker_id if user.role == v.Role.BROKER.value else None)


def actor_for(session: Session, user: User) -> Actor:
    broker_id = session.scalar(select(Broker.id).where(Broker.user_id == user.id)) if user.role == "broker" else None
    return _actor(user, broker_id)


def _actor(user, broker_id: int | None) -> Actor:
    market = user.region_code if user.role in (v.Role.ANALYST.value, v.Role.ADMIN.value) else None
    return Actor(user.id, v.Role(user.role), user.organisation_id, broker_id, market)


def revoke_token(session: Session, *, user_id: int) -> User:
    """The user can no longer call the API (nor log in). The last working admin cannot be revoked: the platform
    would have nobody left to manage it."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(NO_USER)
    if user.role == v.Role.ADMIN.value and user.revoked_at is None:
        others = session.scalar(select(func.count()).select_from(User).where(
            User.role == v.Role.ADMIN.value, User.revoked_at.is_(None), User.id != user.id))
        if not others:
            raise Conflict("这是最后一位在用的平台管理员，不能吊销：请先创建另一位平台管理员，再吊销这一位")
    user.revoked_at = dt.datetime.now(dt.UTC)
    return user


def rotate_token(session: Session, *, user_id: int) -> str:
    """A new token for an existing user, valid TOKEN_DAYS; the old one stops working at once."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(NO_USER)
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


# Passwords people pick first; refused outright (a short list: the throttle handles the rest of guessing).
COMMON_PASSWORDS = frozenset({"12345678", "123456789", "1234567890", "password", "password1", "qwertyui",
                              "qwerty123", "11111111", "88888888", "00000000", "abc12345", "a1234567",
                              "iloveyou", "woaini1314", "admin123", "admin1234", "1qaz2wsx", "passw0rd"})


def password_problem(password: str, *, login: str = "", email: str = "") -> str | None:
    """Why a new password is refused, in Chinese and saying what to do; None when it is acceptable.

    NIST SP 800-63B's rules: length first (8 or more), no known-common passwords, nothing derived from the
    account's own name; plus two kinds of character, which the departments' own rules ask for.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少 {MIN_PASSWORD_LENGTH} 位，请加长"
    if len(password) > 128:
        return "密码不能超过 128 位"
    kinds = sum((any(c.isalpha() for c in password), any(c.isdigit() for c in password),
                 any(not c.isalnum() for c in password)))
    if kinds < 2:
        return "密码须包含字母、数字、符号中的至少两种"
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        return "这个密码太常见，容易被猜中，请换一个"
    for own in (login.strip().lower(), email.strip().lower().split("@")[0]):
        if len(own) >= 4 and own in lowered:
            return "密码不能包含用户名或邮箱名，请换一个"
    return None


def set_password(session: Session, user_id: int, password: str) -> User:
    """Give a user a page-login password (stored as a salted scrypt hash) that passes the password policy."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(NO_USER)
    problem = password_problem(password, login=user.name, email=user.email or "")
    if problem:
        raise InvalidInput.on("password", problem)
    user.password_hash = hash_password(password)
    session.flush()
    return user


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not a password", salt=b"0" * 16)


class AccountNotReady(Forbidden):
    """The password is right but the account may not log in yet: email unverified or organisation under review."""


def verify_login(session: Session, name_or_id: str, password: str) -> Actor | None:
    """The Actor whose email, name (or numeric id) and password match, else None; revoked users cannot log in.

    Raises AccountNotReady when the password is right but the email is not yet verified or the organisation's
    application is still under review or was rejected (only someone who knows the password learns that).
    """
    login = name_or_id.strip()
    query = select(User).where(User.password_hash.is_not(None), User.revoked_at.is_(None))
    by_name = query.where(User.email == login.lower()) if "@" in login else \
        query.where(or_(User.login == login, User.name == login))
    users = list(session.scalars(query.where(User.id == int(login)) if login.isdigit() else by_name))
    if login.isdigit() and not users:
        users = list(session.scalars(by_name))
    if not users:
        password_matches(password, _dummy_hash())  # same work as a real check: timing does not reveal unknown names
        return None
    for user in users:  # names are not unique; the password picks the account
        if password_matches(password, user.password_hash):
            _check_ready(session, user)
            return actor_for(session, user)
    return None


def _check_ready(session: Session, user: User) -> None:
    organisation = session.get(Organisation, user.organisation_id)
    if organisation.status == v.OrganisationStatus.PENDING.value:
        if user.email_verified_at is None:
            raise AccountNotReady("请先点击注册邮件中的链接验证邮箱，验证后由所在地区的审核员审核单位信息。")
        raise AccountNotReady("单位注册申请正在审核中，审核通过后会发邮件通知您，届时即可登录。")
    if organisation.status == v.OrganisationStatus.REJECTED.value:
        raise AccountNotReady(f"单位注册申请未通过审核：{organisation.review_note or '未说明原因'}。"
                              "如有疑问请联系所在地区的科技管理部门。")


def actor_of(session: Session, user_id: int) -> Actor | None:
    """The Actor of a logged-in page session's user, or None when the user is gone or revoked."""
    user = session.get(User, user_id)
    if user is None or user.revoked_at is not None:
        return None
    return actor_for(session, user)
