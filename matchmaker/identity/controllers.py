"""HTTP routes for users and their API tokens (admins manage them; everyone can see themselves)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec
from litestar import Controller, get, post
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.api.params import Limit, Offset, Page, PathId
from matchmaker.errors import NotFound
from matchmaker.identity import audit, services
from matchmaker.identity.authentication import require, roles
from matchmaker.identity.schemas import UserIn, UserOut, UserWithToken, user_out
from matchmaker.identity.services import Actor
from matchmaker.models import User


class UserController(Controller):
    path = "/users"
    tags = ["users"]

    @post("/", operation_id="createUser", status_code=201, sync_to_thread=True, guards=[roles(v.Role.ADMIN)])
    def create_user(self, data: UserIn, actor: Actor, session: Session) -> UserWithToken:
        """Create a user and its API token (admins only); the token is shown in this response only."""
        with session.begin():
            user, token = services.create_user(session, role=data.role, organisation_id=data.organisation_id, name=data.name,
                                               region_code=data.region_code)
            audit.record(session, audit.USER_CREATED, actor=actor, subject=f"user:{user.id}", role=user.role,
                         organisation_id=user.organisation_id)
        return UserWithToken(user_out(user), token)

    @get("/me", operation_id="getCurrentUser", sync_to_thread=True)
    def me(self, actor: Actor, session: Session) -> UserOut:
        """The calling user."""
        return user_out(session.get(User, actor.user_id))

    @get("/{user_id:int}", operation_id="getUser", sync_to_thread=True)
    def get_user(self, user_id: PathId, actor: Actor, session: Session) -> UserOut:
        """One user (admins, or the user themselves)."""
        if actor.user_id != user_id:
            require(actor, v.Role.ADMIN)
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(services.NO_USER)
        return user_out(user)

    @post("/{user_id:int}/revoke", operation_id="revokeUserToken", status_code=200, sync_to_thread=True,
          guards=[roles(v.Role.ADMIN)])
    def revoke(self, user_id: PathId, actor: Actor, session: Session) -> UserOut:
        """Revoke a user's token (admins only); the user can no longer call the API."""
        with session.begin():
            user = services.revoke_token(session, user_id=user_id)
            audit.record(session, audit.TOKEN_REVOKED, actor=actor, subject=f"user:{user_id}")
        return user_out(user)

    @post("/{user_id:int}/token", operation_id="rotateUserToken", status_code=200, sync_to_thread=True)
    def rotate(self, user_id: PathId, actor: Actor, session: Session) -> UserWithToken:
        """A new API token (the user for themselves, or an admin); the old one stops working at once. The new
        token is shown in this response only and expires after the days the response's user record says."""
        if actor.user_id != user_id:
            require(actor, v.Role.ADMIN)
        with session.begin():
            token = services.rotate_token(session, user_id=user_id)
            audit.record(session, audit.TOKEN_ROTATED, actor=actor, subject=f"user:{user_id}")
            return UserWithToken(user_out(session.get(User, user_id)), token)


AuditAction = Literal[tuple(audit.ACTIONS)]  # type: ignore[valid-type]


class AuditEntryOut(msgspec.Struct):
    id: int
    at: dt.datetime
    actor_user_id: int | None
    action: str
    subject: str
    address: str
    detail: dict


class AuditController(Controller):
    path = "/audit"
    tags = ["users"]
    guards = [roles(v.Role.ADMIN)]  # noqa: RUF012 - Litestar's own attribute

    @get("/", operation_id="listAuditLog", sync_to_thread=True)
    def list_audit(self, actor: Actor, session: Session, action: AuditAction | None = None, limit: Limit = 50,
                   offset: Offset = 0) -> Page[AuditEntryOut]:
        """The audit log, newest first (admins only): logins, reviews, edits of published postings, users and
        tokens, confidential reads, exports."""
        with session.begin():
            rows, total = audit.list_entries(session, actor=actor, action=action, limit=limit, offset=offset)
            return Page([AuditEntryOut(r.id, r.at, r.actor_user_id, r.action, r.subject, r.address, r.detail)
                         for r in rows], total, limit, offset)
