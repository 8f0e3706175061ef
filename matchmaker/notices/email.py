"""Email for notices: decide who gets which notice by mail, compose it in Chinese, send it through SMTP.

Run by the job queue (jobs.py), never in a request. The outbox is the notices table itself:
  null ─decide→ queued (immediate) │ digest (daily) │ skipped (off, no address, or older than STALE)
  queued ─claim→ sending ─SMTP accepted→ sent;  an SMTP error puts it back to queued with a growing delay,
  and after MAX_ATTEMPTS it is failed. A worker killed while sending leaves the notice `sending`; once the
  lease runs out another worker sends it again. That is the one place a message can go out twice (the kill
  fell between the server's "250 OK" and our commit); it then carries the same Message-ID, derived from the
  event and the recipient, so mail clients and servers that deduplicate show it once. Nothing is lost.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import logging
import re
import smtplib
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from matchmaker import vocabulary as v
from matchmaker.config import Settings
from matchmaker.db import transaction
from matchmaker.models import Notice, OutboundMail, ThreadMessage, User
from matchmaker.notices.services import KIND_WORDS, preferences

log = logging.getLogger("matchmaker.mail")

STALE = dt.timedelta(days=2)      # a notice older than this when mail is first decided is not emailed (mail was off)
LEASE = dt.timedelta(minutes=5)   # a claimed notice not marked sent by then is sent again (its worker died)
DIGEST_AFTER = dt.timedelta(hours=24)   # a digest goes once its oldest item has waited this long
MAX_ATTEMPTS = 6
BATCH = 500
SIGNATURE = "—— 科技成果转化对接平台（本邮件由系统发送，请勿直接回复）"


# ---------------------------------------------------------------- unsubscribe links


def unsubscribe_token(secret: str, user_id: int, kind: str) -> str:
    """A signed token that turns one kind of email off for one person, with no login (one click in the mail)."""
    payload = f"{user_id}.{kind}"
    mac = hmac.new(secret.encode(), f"unsubscribe:{payload}".encode(), hashlib.sha256).digest()[:16]
    return f"{payload}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, v.NoticeKind] | None:
    """(user id, kind) of a genuine token, None for anything else."""
    match = re.fullmatch(r"(\d{1,12})\.([a-z_]{1,30})\.[A-Za-z0-9_-]{1,40}", token or "")
    if not match or match.group(2) not in v.values(v.NoticeKind):
        return None
    expected = unsubscribe_token(secret, int(match.group(1)), match.group(2))
    if not hmac.compare_digest(expected, token):
        return None
    return int(match.group(1)), v.NoticeKind(match.group(2))


# ---------------------------------------------------------------- composing


def message_id(event: str, user_id: int) -> str:
    """The same event for the same person always has the same Message-ID: the send's idempotency key."""
    safe = re.sub(r"[^A-Za-z0-9.-]", "-", event)
    return f"<{safe}.u{user_id}@matchmaker.test>"


def compose(settings: Settings, user: User, items: list[Notice], *, digest: bool = False,
            meeting: ThreadMessage | None = None) -> EmailMessage:
    """A Chinese message with plain-text and HTML parts, links back to the pages and an unsubscribe link."""
    first = items[0]
    message = EmailMessage()
    message["Subject"] = (f"【科技成果对接】今日汇总：{len(items)} 条提醒" if digest else f"【科技成果对接】{first.title}")
    message["From"] = settings.mail_from
    message["To"] = user.email
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = (message_id(f"digest-{first.id}", user.id) if digest else message_id(first.event, user.id))
    kind = first.kind
    unsubscribe = f"{settings.public_url}/web/unsubscribe?token={unsubscribe_token(settings.secret_key, user.id, kind)}"
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    lines = [f"{user.name}，您好："]
    blocks = []
    for item in items:
        link = f"{settings.public_url}{item.link}" if item.link else f"{settings.public_url}/web/inbox"
        lines += ["", item.title, *(item.body.splitlines() if item.body else []), f"查看详情：{link}"]
        blocks.append(f"<h3>{html.escape(item.title)}</h3>"
                      + "".join(f"<p>{html.escape(line)}</p>" for line in item.body.splitlines() if line)
                      + f'<p><a href="{html.escape(link)}">查看详情</a></p>')
    manage = f"{settings.public_url}/web/notice-preferences"
    stop_words = "每日汇总" if digest else f"“{KIND_WORDS[v.NoticeKind(kind)]}”"
    lines += ["", f"不想再收到{stop_words}类邮件：{unsubscribe}", f"设置各类提醒的发送方式：{manage}", "", SIGNATURE]
    message.set_content("\n".join(lines))
    message.add_alternative(
        f"<html><body><p>{html.escape(user.name)}，您好：</p>{''.join(blocks)}<hr>"
        f'<p><a href="{html.escape(unsubscribe)}">不再接收{html.escape(stop_words)}类邮件</a> · '
        f'<a href="{html.escape(manage)}">设置提醒方式</a></p><p>{SIGNATURE}</p></body></html>', subtype="html")
    if meeting is not None and meeting.meeting_at is not None:
        message.add_attachment(meeting_ics(meeting, first.title), subtype="calendar", charset="utf-8",
                               filename="meeting.ics", params={"method": "REQUEST"})
    return message


def meeting_ics(meeting: ThreadMessage, summary: str) -> str:
    """An iCalendar request for a proposed meeting (one hour), for the recipient's calendar."""
    start = meeting.meeting_at.astimezone(dt.UTC)
    stamp = "%Y%m%dT%H%M%SZ"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//matchmaker//deal thread//ZH", "METHOD:REQUEST",
             "BEGIN:VEVENT", f"UID:meeting-{meeting.id}@matchmaker.test", f"DTSTAMP:{meeting.at.astimezone(dt.UTC):{stamp}}",
             f"DTSTART:{start:{stamp}}", f"DTEND:{start + dt.timedelta(hours=1):{stamp}}",
             f"SUMMARY:{_ics_text(summary)}", f"LOCATION:{_ics_text(meeting.meeting_place)}",
             f"DESCRIPTION:{_ics_text(meeting.body)}", "END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(lines) + "\r\n"


def _ics_text(value: str) -> str:
    return (value or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


# ---------------------------------------------------------------- deciding and sending


def decide(session: Session, now: dt.datetime) -> int:
    """Give every undecided notice its email state from the person's preference and address."""
    undecided = list(session.scalars(select(Notice).where(Notice.email_state.is_(None)).order_by(Notice.id).limit(BATCH)))
    wanted: dict[int, dict] = {}
    for notice in undecided:
        user = session.get(User, notice.user_id)
        if notice.user_id not in wanted:
            wanted[notice.user_id] = preferences(session, notice.user_id)
        choice = wanted[notice.user_id][v.NoticeKind(notice.kind)]
        created = notice.created_at if notice.created_at.tzinfo else notice.created_at.replace(tzinfo=dt.UTC)
        if not user.email or user.revoked_at is not None or choice is v.Delivery.OFF or now - created > STALE:
            notice.email_state = "skipped"
        elif choice is v.Delivery.DAILY:
            notice.email_state = "digest"
        else:
            notice.email_state, notice.email_due_at = "queued", now
    session.flush()
    return len(undecided)


class Mailer:
    """One SMTP connection for a batch, opened on first use; smtp:// (optionally with user:password@) or smtps://."""

    def __init__(self, url: str) -> None:
        self.parts = urlsplit(url)
        self.connection: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        if self.connection is None:
            secure = self.parts.scheme == "smtps"
            kind = smtplib.SMTP_SSL if secure else smtplib.SMTP
            self.connection = kind(self.parts.hostname or "127.0.0.1", self.parts.port or (465 if secure else 25),
                                   timeout=30)
            if self.parts.username:
                self.connection.login(unquote(self.parts.username), unquote(self.parts.password or ""))
        self.connection.send_message(message)

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except smtplib.SMTPException:
                pass
            self.connection = None


def deliver_due(factory: sessionmaker[Session], settings: Settings, *, now: dt.datetime | None = None,
                limit: int = BATCH) -> int:
    """Decide new notices, then send what is due: immediate notices one by one, digests whose time has come.

    Each message is claimed and marked in its own short transaction, so a crash loses at most the one in flight.
    Returns how many messages the SMTP server accepted.
    """
    if not settings.smtp_url:
        return 0
    now = now or dt.datetime.now(dt.UTC)
    with transaction(factory) as session:
        decide(session, now)
        # A claim whose worker died: its lease has run out, so it is due again.
        session.execute(update(Notice).where(Notice.email_state == "sending", Notice.email_due_at <= now)
                        .values(email_state="queued"))
    mailer = Mailer(settings.smtp_url)
    sent = 0
    try:
        for _ in range(limit):
            claimed = _claim(factory, now)
            if claimed is None:
                break
            sent += _send_one(factory, settings, mailer, claimed, now)
        sent += _send_digests(factory, settings, mailer, now)
        sent += _send_account_mail(factory, settings, mailer, now, limit)
    finally:
        mailer.close()
    return sent


def _claim(factory: sessionmaker[Session], now: dt.datetime) -> int | None:
    """Take the next due notice for this worker: a conditional update, so two workers never take the same one."""
    with transaction(factory) as session:
        candidates = session.scalars(select(Notice.id).where(Notice.email_state == "queued", or_(
            Notice.email_due_at.is_(None), Notice.email_due_at <= now)).order_by(Notice.id).limit(5)).all()
        for notice_id in candidates:
            taken = session.execute(update(Notice).where(Notice.id == notice_id, Notice.email_state == "queued")
                                    .values(email_state="sending", email_due_at=now + LEASE,
                                            email_attempts=Notice.email_attempts + 1))
            if taken.rowcount == 1:
                return notice_id
    return None


def _send_one(factory, settings: Settings, mailer: Mailer, notice_id: int, now: dt.datetime) -> int:
    with factory() as session:
        notice = session.get(Notice, notice_id)
        user = session.get(User, notice.user_id)
        meeting = _meeting_of(session, notice)
        message = compose(settings, user, [notice], meeting=meeting)
        attempts = notice.email_attempts
    try:
        mailer.send(message)
    except (smtplib.SMTPException, OSError) as error:
        mailer.close()
        _retry_later(factory, [notice_id], attempts, now, error)
        return 0
    with transaction(factory) as session:
        session.execute(update(Notice).where(Notice.id == notice_id).values(
            email_state="sent", emailed_at=dt.datetime.now(dt.UTC), email_error=""))
    return 1


def _meeting_of(session: Session, notice: Notice) -> ThreadMessage | None:
    if notice.event.startswith("meeting:"):
        return session.get(ThreadMessage, int(notice.event.split(":")[1]))
    return None


def _retry_later(factory, notice_ids: list[int], attempts: int, now: dt.datetime, error: Exception, *,
                 state: str = "queued") -> None:
    """Back off 1, 2, 4 … minutes; give up after MAX_ATTEMPTS (the notice stays in the inbox)."""
    state = "failed" if attempts >= MAX_ATTEMPTS else state
    delay = dt.timedelta(minutes=2 ** (attempts - 1))
    log.warning("mail to notices %s failed (attempt %s): %s", notice_ids, attempts, error)
    with transaction(factory) as session:
        session.execute(update(Notice).where(Notice.id.in_(notice_ids)).values(
            email_state=state, email_due_at=now + delay, email_error=str(error)[:300]))


def _send_digests(factory, settings: Settings, mailer: Mailer, now: dt.datetime) -> int:
    """One message per person whose oldest waiting digest item has waited a day."""
    with factory() as session:
        oldest = session.execute(select(Notice.user_id, func.min(Notice.created_at))
                                 .where(Notice.email_state == "digest").group_by(Notice.user_id)).all()
    sent = 0
    for user_id, first in oldest:
        if now - _aware(first) < DIGEST_AFTER:
            continue
        with transaction(factory) as session:
            ids = session.scalars(update(Notice).where(Notice.user_id == user_id, Notice.email_state == "digest")
                                  .values(email_state="sending", email_due_at=now + LEASE,
                                          email_attempts=Notice.email_attempts + 1).returning(Notice.id)).all()
            if not ids:
                continue   # another worker took them
            items = list(session.scalars(select(Notice).where(Notice.id.in_(ids)).order_by(Notice.id)))
            message = compose(settings, session.get(User, user_id), items, digest=True)
            attempts = max(item.email_attempts for item in items)
        try:
            mailer.send(message)
        except (smtplib.SMTPException, OSError) as error:
            mailer.close()
            _retry_later(factory, ids, attempts, now, error, state="digest")
            continue
        with transaction(factory) as session:
            session.execute(update(Notice).where(Notice.id.in_(ids)).values(
                email_state="sent", emailed_at=dt.datetime.now(dt.UTC)))
        sent += 1
    return sent


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)



# ---------------------------------------------------------------- account mail (identity/accounts.py queues it)


def _send_account_mail(factory, settings: Settings, mailer: Mailer, now: dt.datetime, limit: int) -> int:
    """Verification, invitation, reset and review-outcome mails: claimed one by one like notices. Once sent, the
    body (which carried a one-time link) is blanked: the database keeps that a mail went, not its key."""
    with transaction(factory) as session:
        session.execute(update(OutboundMail).where(OutboundMail.state == "sending", OutboundMail.due_at <= now)
                        .values(state="queued"))
    sent = 0
    for _ in range(limit):
        with transaction(factory) as session:
            mail_id = session.scalar(
                update(OutboundMail).where(OutboundMail.id == select(OutboundMail.id).where(
                    OutboundMail.state == "queued", OutboundMail.due_at <= now).order_by(OutboundMail.id).limit(1)
                    .scalar_subquery(), OutboundMail.state == "queued")
                .values(state="sending", due_at=now + LEASE, attempts=OutboundMail.attempts + 1)
                .returning(OutboundMail.id))
            if mail_id is None:
                break
            mail = session.get(OutboundMail, mail_id)
            message = EmailMessage()
            message["Subject"], message["From"], message["To"] = mail.subject, settings.mail_from, mail.to_address
            message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
            message["Message-ID"] = f"<account-{mail.id}@matchmaker.test>"
            message.set_content(mail.body)
            attempts = mail.attempts
        try:
            mailer.send(message)
        except (smtplib.SMTPException, OSError) as error:
            mailer.close()
            log.warning("account mail %s failed (attempt %s): %s", mail_id, attempts, error)
            with transaction(factory) as session:
                session.execute(update(OutboundMail).where(OutboundMail.id == mail_id).values(
                    state="failed" if attempts >= MAX_ATTEMPTS else "queued", error=str(error)[:300],
                    due_at=now + dt.timedelta(minutes=2 ** (attempts - 1))))
            continue
        with transaction(factory) as session:
            session.execute(update(OutboundMail).where(OutboundMail.id == mail_id).values(
                state="sent", sent_at=dt.datetime.now(dt.UTC), body="", error=""))
        sent += 1
    return sent
