"""One-time account links (verify an email, accept an invitation, reset a password) and the account-mail outbox.

A link carries a random 256-bit token; only its SHA-256 is stored, with its purpose, its person and an expiry.
Redeeming is one conditional UPDATE (unused, unexpired, this purpose), so two clicks at once open it once.
Mail is not sent here: it is queued in `outbound_mail` and the job worker sends it through the same SMTP
setting and queue as notices (notices/email.py), after the request's transaction has committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import InvalidInput
from matchmaker.models import AccountToken, OutboundMail, User

LIFETIME = {v.TokenPurpose.VERIFY_EMAIL: dt.timedelta(days=2), v.TokenPurpose.INVITE: dt.timedelta(days=7),
            v.TokenPurpose.RESET_PASSWORD: dt.timedelta(hours=1)}
EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")
LINK_SPENT = "该链接无效、已使用或已过期。请重新申请一封邮件（登录页有“忘记密码”），或联系平台管理员。"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, *, user_id: int, purpose: v.TokenPurpose, now: dt.datetime | None = None) -> str:
    """A new one-time token for this person and purpose (earlier unused ones of the same purpose stop working)."""
    now = now or dt.datetime.now(dt.UTC)
    session.execute(update(AccountToken).where(AccountToken.user_id == user_id, AccountToken.purpose == purpose.value,
                                               AccountToken.used_at.is_(None)).values(used_at=now))
    token = secrets.token_urlsafe(32)
    session.add(AccountToken(user_id=user_id, purpose=purpose.value, token_hash=_digest(token),
                             expires_at=now + LIFETIME[purpose], created_at=now))
    session.flush()
    return token


def redeem(session: Session, token: str, purpose: v.TokenPurpose, *, now: dt.datetime | None = None) -> User:
    """The token's person, marking the token used; a wrong, used or expired token is refused in Chinese."""
    now = now or dt.datetime.now(dt.UTC)
    if not token or len(token) > 100:
        raise InvalidInput.on("token", LINK_SPENT)
    user_id = session.scalar(
        update(AccountToken).where(AccountToken.token_hash == _digest(token), AccountToken.purpose == purpose.value,
                                   AccountToken.used_at.is_(None), AccountToken.expires_at > now)
        .values(used_at=now).returning(AccountToken.user_id))
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or user.revoked_at is not None:
        raise InvalidInput.on("token", LINK_SPENT)
    return user


def peek(session: Session, token: str, purpose: v.TokenPurpose, *, now: dt.datetime | None = None) -> User | None:
    """Whose a still-valid token is, without using it (to greet the person on the form it opens)."""
    now = now or dt.datetime.now(dt.UTC)
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(AccountToken).where(
        AccountToken.token_hash == _digest(token), AccountToken.purpose == purpose.value,
        AccountToken.used_at.is_(None), AccountToken.expires_at > now))
    return session.get(User, row.user_id) if row is not None else None


def queue_mail(session: Session, *, to: str, subject: str, lines: list[str]) -> OutboundMail:
    mail = OutboundMail(to_address=to, subject=f"【科技成果对接】{subject}",
                        body="\n".join([*lines, "", "—— 科技成果转化对接平台（本邮件由系统发送，请勿直接回复）"]))
    session.add(mail)
    session.flush()
    return mail


def email_taken(session: Session, email: str) -> bool:
    """Whether a person who can still act already has this (normalised) address."""
    return session.scalar(select(User.id).where(func.lower(User.email) == email, User.revoked_at.is_(None))
                          .limit(1)) is not None


def normal_email(raw: str) -> str:
    return (raw or "").strip().lower()
