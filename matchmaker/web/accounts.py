"""Pages for people the admin did not create: apply for an organisation, verify the email, reset a forgotten
password, accept an invitation; the organisation's administrator invites colleagues; reviewers decide applications."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog import directory
from matchmaker.errors import Conflict, DomainError, InvalidInput
from matchmaker.identity import accounts, registration
from matchmaker.identity.services import Actor
from matchmaker.jobs import enqueue, make_queue
from matchmaker.web.forms import FormData
from matchmaker.web.labels import HIDDEN_CITIES
from matchmaker.web.login import Form
from matchmaker.web.views import flash, redirect, render

KIND_CHOICES = [(k.value, w) for k, w in ((v.OrganisationKind.ENTERPRISE, "企业"), (v.OrganisationKind.UNIVERSITY, "高校"),
                                          (v.OrganisationKind.INSTITUTE, "科研院所"),
                                          (v.OrganisationKind.AGENCY, "技术转移服务机构"))]


def _public_url(request: Request) -> str:
    return request.app.state.settings.public_url   # links in mail start with it (MATCHMAKER_PUBLIC_URL)


def _mail_soon(request: Request) -> None:
    """Ask the worker to send the queued mail now (its every-minute run would anyway)."""
    state = request.app.state
    if state.get("jobs") is None:
        state.jobs = make_queue(state.settings)
    enqueue(state.jobs, "deliver_notices")


def _problems(error: DomainError) -> dict[str, str]:
    return {p.field: p.reason for p in error.problems} or {"_": error.detail}


def _region_choices(session: Session) -> list[tuple[str, str]]:
    """Cities and counties, each under its province's name (a municipality is named once, not as “全省”)."""
    provinces = {r.code: r.name for r in directory.list_regions(session)}
    choices = []
    for city in directory.list_regions(session, level="city"):
        if city.name in HIDDEN_CITIES:
            continue
        province = provinces.get(city.code[:2] + "0000", "")
        choices.append((city.code, city.name if city.name.startswith(province[:2]) else f"{province} {city.name}"))
    return choices


@get("/register", exclude_from_auth=True, sync_to_thread=True)
def register_form(request: Request, session: Session) -> Template:
    return render(request, "register.html", form={}, problems={}, kinds=KIND_CHOICES,
                  regions=_region_choices(session))


@post("/register", exclude_from_auth=True, sync_to_thread=True)
def register(request: Request, session: Session, data: dict[str, str] = Form) -> Template:
    form = FormData(data)
    application = registration.Application(
        organisation=form.get("organisation", ""), kind=form.get("kind", ""), credit_code=form.get("credit_code", ""),
        region_code=form.get("region_code", ""), contact=form.get("contact", ""), email=form.get("email", ""),
        password=data.get("password", ""))
    try:
        with session.begin():
            person = registration.apply(session, application, public_url=_public_url(request))
            address = person.email
    except DomainError as error:
        return render(request, "register.html", status_code=422, form=form, problems=_problems(error),
                      kinds=KIND_CHOICES, regions=_region_choices(session))
    _mail_soon(request)
    return render(request, "account_message.html", title="请查收验证邮件",
                  lines=[f"我们已向 {address} 发送了一封验证邮件，请在 48 小时内点击其中的链接。",
                         "验证后，所在地区的科技管理部门会审核单位信息，审核结果将以邮件通知您。"])


@get("/verify-email", exclude_from_auth=True, sync_to_thread=True)
def verify_email(request: Request, session: Session, token: str = "") -> Template:
    try:
        with session.begin():
            registration.verify_email(session, token)
    except DomainError as error:
        return render(request, "account_message.html", status_code=400, title="链接已失效", lines=[error.problems[0].reason],
                      kind="error")
    return render(request, "account_message.html", title="邮箱已验证",
                  lines=["谢谢！单位信息已提交所在地区的科技管理部门审核，通常在 3 个工作日内完成。",
                         "审核通过后会发邮件通知您，届时用本邮箱和注册时的密码登录即可。"])


@get("/forgot-password", exclude_from_auth=True, sync_to_thread=False)
def forgot_form(request: Request) -> Template:
    return render(request, "forgot_password.html", form={}, problems={})


@post("/forgot-password", exclude_from_auth=True, sync_to_thread=True)
def forgot(request: Request, session: Session, data: dict[str, str] = Form) -> Template:
    email = accounts.normal_email(data.get("email", ""))
    if not accounts.EMAIL.match(email):
        return render(request, "forgot_password.html", status_code=422, form={"email": email},
                      problems={"email": "请填写注册时使用的电子邮箱"})
    with session.begin():
        registration.request_password_reset(session, email=email, public_url=_public_url(request))
    _mail_soon(request)
    return render(request, "account_message.html", title="请查收邮件",
                  lines=[f"如果 {email} 是平台账号的邮箱，我们已向它发送了重设密码的链接，1 小时内有效。",
                         "没有收到？请检查垃圾邮件，或联系本单位管理员。"])


def _password_page(request: Request, session: Session, token: str, purpose: v.TokenPurpose, title: str) -> Template:
    person = accounts.peek(session, token, purpose)
    if person is None:
        return render(request, "account_message.html", status_code=400, title="链接已失效", lines=[accounts.LINK_SPENT],
                      kind="error")
    return render(request, "set_password.html", title=title, token=token, person=person.name, problems={},
                  action=request.url.path)


def _set_password(request: Request, session: Session, data: dict, purpose: v.TokenPurpose, title: str):
    token = data.get("token", "")
    try:
        with session.begin():
            registration.set_password_by_link(session, token=token, purpose=purpose, password=data.get("password", ""))
    except DomainError as error:
        problems = _problems(error)
        if "token" in problems:
            return render(request, "account_message.html", status_code=400, title="链接已失效",
                          lines=[problems["token"]], kind="error")
        with session.begin():
            person = accounts.peek(session, token, purpose)
        return render(request, "set_password.html", status_code=422, title=title, token=token,
                      person=person.name if person else "", problems=problems, action=request.url.path)
    return redirect(request, "/web/login", "密码已设置，请用邮箱和新密码登录")


@get("/reset-password", exclude_from_auth=True, sync_to_thread=True)
def reset_form(request: Request, session: Session, token: str = "") -> Template:
    return _password_page(request, session, token, v.TokenPurpose.RESET_PASSWORD, "设置新密码")


@post("/reset-password", exclude_from_auth=True, sync_to_thread=True)
def reset(request: Request, session: Session, data: dict[str, str] = Form) -> Template | Redirect:
    return _set_password(request, session, data, v.TokenPurpose.RESET_PASSWORD, "设置新密码")


@get("/invitation", exclude_from_auth=True, sync_to_thread=True)
def invitation_form(request: Request, session: Session, token: str = "") -> Template:
    return _password_page(request, session, token, v.TokenPurpose.INVITE, "接受邀请并设置密码")


@post("/invitation", exclude_from_auth=True, sync_to_thread=True)
def accept_invitation(request: Request, session: Session, data: dict[str, str] = Form) -> Template | Redirect:
    return _set_password(request, session, data, v.TokenPurpose.INVITE, "接受邀请并设置密码")


@get("/team", sync_to_thread=True)
def team(request: Request, actor: Actor, session: Session) -> Template:
    with session.begin():
        people = registration.colleagues(session, actor)
        me = next(p for p in people if p.id == actor.user_id)
    return render(request, "team.html", people=people, may_invite=me.org_admin, form={}, problems={})


@post("/team", sync_to_thread=True)
def invite(request: Request, actor: Actor, session: Session, data: dict[str, str] = Form) -> Template | Redirect:
    form = FormData(data)
    try:
        with session.begin():
            colleague = registration.invite(session, actor=actor, name=form.get("name", ""), email=form.get("email", ""),
                                            public_url=_public_url(request), admin=form.get("org_admin") == "on")
            name, address = colleague.name, colleague.email
    except DomainError as error:
        with session.begin():
            people = registration.colleagues(session, actor)
            may = next(p for p in people if p.id == actor.user_id).org_admin
        return render(request, "team.html", status_code=422, people=people, may_invite=may, form=form,
                      problems=_problems(error))
    _mail_soon(request)
    return redirect(request, "/web/team", f"已向 {name}（{address}）发出邀请，对方设置密码后即可登录")


@get("/applications", sync_to_thread=True)
def applications(request: Request, actor: Actor, session: Session) -> Template:
    with session.begin():
        rows = registration.pending_applications(session, actor)
        region_names = directory.region_names(session, (org.region_code for org, _ in rows))
    return render(request, "applications.html", rows=rows, region_names=region_names, kinds=dict(KIND_CHOICES))


@post("/applications/{organisation_id:int}", sync_to_thread=True)
def decide(request: Request, organisation_id: int, actor: Actor, session: Session,
           data: dict[str, str] = Form) -> Redirect:
    approve = data.get("decision") == "approve"
    try:
        with session.begin():
            organisation = registration.decide_application(session, actor=actor, organisation_id=organisation_id,
                                                           approve=approve, note=data.get("note", ""),
                                                           public_url=_public_url(request))
            name = organisation.name
    except (InvalidInput, Conflict) as error:   # shown where the reviewer is, in red, nothing else changed
        flash(request, next(iter(_problems(error).values())), kind="error")
        return Redirect(f"/web/applications#application-{organisation_id}", status_code=303)
    _mail_soon(request)
    return redirect(request, "/web/applications", f"已{'通过' if approve else '退回'}“{name}”的注册申请，已邮件通知申请人")


HANDLERS = [register_form, register, verify_email, forgot_form, forgot, reset_form, reset, invitation_form,
            accept_invitation, team, invite, applications, decide]
