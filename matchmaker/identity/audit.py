"""The audit log: logins, reviews, edits of published postings, role and token changes, confidential reads and
exports, each with who, what and from where. Rows are only ever added (the database refuses the rest).

Retention: rows are kept indefinitely; the platform never deletes them (docs/security.md says how an operator
archives old years).
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.db import make_session_factory, paged, transaction
from matchmaker.errors import Forbidden
from matchmaker.identity.services import Actor
from matchmaker.models import AuditEntry

# The actions recorded (the `action` column), so readers and tests name them one way.
LOGIN, LOGIN_FAILED, LOGIN_THROTTLED, LOGOUT = "login", "login_failed", "login_throttled", "logout"
APPROVED, REJECTED, PUBLISHED_EDIT, REVISION_APPROVED = "approved", "rejected", "published_edit", "revision_approved"
USER_CREATED, TOKEN_ROTATED, TOKEN_REVOKED = "user_created", "token_rotated", "token_revoked"
CONFIDENTIAL_READ, CONFIDENTIAL_GRANTED, EXPORTED = "confidential_read", "confidential_granted", "exported"
REGISTERED, REGISTRATION_DECIDED, PASSWORD_SET = "registered", "registration_decided", "password_set"
ACTIONS = (LOGIN, LOGIN_FAILED, LOGIN_THROTTLED, LOGOUT, APPROVED, REJECTED, PUBLISHED_EDIT, REVISION_APPROVED,
           USER_CREATED, TOKEN_ROTATED, TOKEN_REVOKED, CONFIDENTIAL_READ, CONFIDENTIAL_GRANTED, EXPORTED,
           REGISTERED, REGISTRATION_DECIDED, PASSWORD_SET)
# What each action is called on the audit page.
ACTION_WORDS = {LOGIN: "登录", LOGIN_FAILED: "登录失败", LOGIN_THROTTLED: "登录被限流", LOGOUT: "退出登录",
                APPROVED: "审核通过", REJECTED: "审核退回", PUBLISHED_EDIT: "修改已发布内容",
                REVISION_APPROVED: "修改审核通过", USER_CREATED: "创建用户", TOKEN_ROTATED: "更换令牌",
                TOKEN_REVOKED: "吊销令牌", CONFIDENTIAL_READ: "查看保密内容", CONFIDENTIAL_GRANTED: "授权查看保密内容",
                EXPORTED: "导出数据", REGISTERED: "单位注册申请", REGISTRATION_DECIDED: "审核注册申请",
                PASSWORD_SET: "设置密码"}


def record(session: Session, action: str, *, actor: Actor | None = None, user_id: int | None = None,
           subject: str = "", address: str = "", **detail) -> None:
    """Add one entry in the caller's transaction: it exists exactly when what it records happened."""
    session.add(AuditEntry(actor_user_id=actor.user_id if actor else user_id, action=action, subject=subject[:40],
                           address=(address or "")[:64], detail=detail))


def record_from_cli(engine: Engine, action: str, *, subject: str, **detail) -> None:
    """An entry for what a command-line user did (no API user: the operator at the server), in its own
    transaction once the action is done."""
    with transaction(make_session_factory(engine)) as session:
        record(session, action, subject=subject, via="cli", **detail)


def list_entries(session: Session, *, actor: Actor, action: str | None = None, limit: int = 50,
                 offset: int = 0) -> tuple[list[AuditEntry], int]:
    """Newest first; admins only."""
    if not actor.is_(v.Role.ADMIN):
        raise Forbidden("审计日志只有平台管理员可以查看")
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    rows, total = paged(session, query.order_by(AuditEntry.id.desc()), limit=limit, offset=offset)
    return [row[0] for row in rows], total
