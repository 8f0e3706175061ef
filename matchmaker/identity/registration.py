"""Organisations that come by themselves: apply, verify the email, be reviewed by their region's reviewer; then the
first person administers the organisation and invites colleagues. Also: password reset by emailed link.

    apply ─(verification link)→ email verified ─(reviewer of the region)→ active │ rejected (with a reason)

The organisation's role follows its kind: a university or institute posts achievements (office), an enterprise
posts demands (firm), a technology-transfer agency employs brokers (broker).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

from matchmaker import vocabulary as v
from matchmaker.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from matchmaker.identity import accounts, audit
from matchmaker.identity.market import in_market, market_condition
from matchmaker.identity.services import Actor, create_user, hash_password, password_problem
from matchmaker.models import Organisation, Region, User

ROLE_OF_KIND = {v.OrganisationKind.UNIVERSITY: v.Role.OFFICE, v.OrganisationKind.INSTITUTE: v.Role.OFFICE,
                v.OrganisationKind.ENTERPRISE: v.Role.FIRM, v.OrganisationKind.AGENCY: v.Role.BROKER}
APPLYING_KINDS = tuple(ROLE_OF_KIND)


@dataclass(frozen=True)
class Application:
    organisation: str
    kind: str
    credit_code: str
    region_code: str
    contact: str
    email: str
    password: str


def credit_code_problem(code: str) -> str | None:
    """GB 32100-2015: 18 characters, the last a check character over the first 17 (python-stdnum computes it)."""
    try:
        uscc.validate(code)
    except InvalidChecksum:
        return "统一社会信用代码的校验位不正确，请对照营业执照或法人证书逐位核对"
    except ValidationError:
        return "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V），请对照营业执照填写"
    return None


def application_problems(session: Session, form: Application) -> list[FieldProblem]:
    """Every problem of an application at once, in Chinese, each saying what to do."""
    problems = []
    if not 2 <= len(form.organisation.strip()) <= 200:
        problems.append(FieldProblem("organisation", "请填写单位全称（与营业执照或法人证书一致）"))
    if form.kind not in v.values(v.OrganisationKind) or v.OrganisationKind(form.kind) not in APPLYING_KINDS:
        problems.append(FieldProblem("kind", "请选择单位类型：高校、科研院所、企业或技术转移服务机构"))
    code = form.credit_code.strip().upper()
    problem = credit_code_problem(code)
    if problem:
        problems.append(FieldProblem("credit_code", problem))
    elif session.scalar(select(Organisation.id).where(Organisation.credit_code == code)) is not None:
        problems.append(FieldProblem("credit_code", "该统一社会信用代码已注册。请让本单位管理员邀请您加入，或联系平台管理员"))
    region = session.get(Region, form.region_code) if form.region_code else None
    if region is None or region.level == "province":
        problems.append(FieldProblem("region_code", "请选择单位所在的市或区县（审核由所在地区的科技管理部门负责）"))
    if not 2 <= len(form.contact.strip()) <= 100:
        problems.append(FieldProblem("contact", "请填写联系人姓名"))
    email = accounts.normal_email(form.email)
    if not accounts.EMAIL.match(email):
        problems.append(FieldProblem("email", "请填写有效的电子邮箱（形如 用户名@单位域名）；验证链接会发到这里"))
    elif accounts.email_taken(session, email):
        problems.append(FieldProblem("email", "该邮箱已注册。可直接登录；忘记密码可在登录页找回"))
    problem = password_problem(form.password, login=form.contact, email=email)
    if problem:
        problems.append(FieldProblem("password", problem))
    return problems


def apply(session: Session, form: Application, *, public_url: str) -> User:
    """A pending organisation and its first person (its administrator), and the verification mail queued."""
    problems = application_problems(session, form)
    if problems:
        raise InvalidInput("注册信息有误，请按提示修改", problems=problems)
    kind = v.OrganisationKind(form.kind)
    organisation = Organisation(name=form.organisation.strip(), kind=kind.value, credit_code=form.credit_code.strip().upper(),
                                region_code=form.region_code, status=v.OrganisationStatus.PENDING.value)
    session.add(organisation)
    session.flush()
    user, _token = create_user(session, role=ROLE_OF_KIND[kind].value, organisation_id=organisation.id,
                               name=form.contact.strip())
    user.token_hash = None   # self-registered people use the pages; an API token is issued on request
    user.email, user.org_admin = accounts.normal_email(form.email), True
    user.password_hash = hash_password(form.password)
    _send_verification(session, user, organisation, public_url)
    audit.record(session, audit.REGISTERED, actor=None, subject=f"organisation:{organisation.id}",
                 kind=kind.value, region=form.region_code)
    return user


def _send_verification(session: Session, user: User, organisation: Organisation, public_url: str) -> None:
    token = accounts.issue(session, user_id=user.id, purpose=v.TokenPurpose.VERIFY_EMAIL)
    accounts.queue_mail(session, to=user.email, subject="请验证您的邮箱", lines=[
        f"{user.name}，您好：", "",
        f"您为“{organisation.name}”申请了平台账号。请在 48 小时内打开下面的链接验证邮箱：",
        f"{public_url}/web/verify-email?token={token}", "",
        "验证后，所在地区的科技管理部门将审核单位信息，结果会以邮件通知您。",
        "如果不是您本人操作，请忽略本邮件。"])


def verify_email(session: Session, token: str) -> User:
    user = accounts.redeem(session, token, v.TokenPurpose.VERIFY_EMAIL)
    user.email_verified_at = user.email_verified_at or dt.datetime.now(dt.UTC)
    return user


# ---------------------------------------------------------------- review of applications


def pending_applications(session: Session, actor: Actor) -> list[tuple[Organisation, User]]:
    """Applications with a verified email in the reviewer's market, oldest first."""
    _require_reviewer(actor)
    query = (select(Organisation, User).join(User, User.organisation_id == Organisation.id)
             .where(Organisation.status == v.OrganisationStatus.PENDING.value, User.org_admin,
                    User.email_verified_at.is_not(None)).order_by(Organisation.created_at, Organisation.id))
    scope = market_condition(actor, Organisation.region_code)
    if scope is not None:
        query = query.where(scope)
    return [(org, user) for org, user in session.execute(query)]


def decide_application(session: Session, *, actor: Actor, organisation_id: int, approve: bool, note: str,
                       public_url: str) -> Organisation:
    """The reviewer of the organisation's region approves it, or rejects it with a reason; the applicant is mailed."""
    _require_reviewer(actor)
    organisation = session.get(Organisation, organisation_id, with_for_update=True)
    if organisation is None or not in_market(actor, organisation.region_code):
        raise NotFound("没有找到该注册申请：它可能不属于您负责的地区")
    if organisation.status != v.OrganisationStatus.PENDING.value:
        raise Conflict("该申请已经审核过了，请刷新页面查看结果")
    note = note.strip()
    if not approve and not note:
        raise InvalidInput.on("note", "退回申请时请写明原因，申请人会在邮件里看到")
    organisation.status = (v.OrganisationStatus.ACTIVE if approve else v.OrganisationStatus.REJECTED).value
    organisation.review_note = None if approve else note
    audit.record(session, audit.REGISTRATION_DECIDED, actor=actor, subject=f"organisation:{organisation.id}",
                 approved=approve)
    for person in session.scalars(select(User).where(User.organisation_id == organisation.id, User.org_admin)):
        if approve:
            lines = [f"{person.name}，您好：", "", f"“{organisation.name}”的注册申请已通过审核。现在可以用本邮箱和密码登录：",
                     f"{public_url}/web/login", "", "登录后可在“本单位账号”中邀请同事加入。"]
        else:
            lines = [f"{person.name}，您好：", "", f"“{organisation.name}”的注册申请未通过审核，原因：{note}", "",
                     "如有疑问，请联系所在地区的科技管理部门。"]
        accounts.queue_mail(session, to=person.email, subject="单位注册审核结果", lines=lines)
    return organisation


def _require_reviewer(actor: Actor) -> None:
    if actor.role not in (v.Role.ANALYST, v.Role.ADMIN):
        raise Forbidden("只有科技管理部门的审核员可以审核注册申请")


# ---------------------------------------------------------------- colleagues


def colleagues(session: Session, actor: Actor) -> list[User]:
    return list(session.scalars(select(User).where(User.organisation_id == actor.organisation_id).order_by(User.id)))


def invite(session: Session, *, actor: Actor, name: str, email: str, public_url: str, admin: bool = False) -> User:
    """The organisation's administrator invites a colleague, who sets a password through the mailed link.

    Colleagues take the organisation's role (an enterprise's people are firm users); the inviter vouches for the
    address, so accepting the invitation also verifies it.
    """
    inviter = session.get(User, actor.user_id)
    if not inviter.org_admin:
        raise Forbidden("只有本单位管理员可以邀请同事，请联系本单位管理员")
    email = accounts.normal_email(email)
    problems = []
    if not 2 <= len(name.strip()) <= 100:
        problems.append(FieldProblem("name", "请填写同事的姓名"))
    if not accounts.EMAIL.match(email):
        problems.append(FieldProblem("email", "请填写有效的电子邮箱，邀请链接会发到这里"))
    elif accounts.email_taken(session, email):
        problems.append(FieldProblem("email", "该邮箱已有账号，无需再邀请"))
    if problems:
        raise InvalidInput("邀请信息有误，请按提示修改", problems=problems)
    colleague, _token = create_user(session, role=actor.role.value, organisation_id=actor.organisation_id,
                                    name=name.strip())
    colleague.token_hash, colleague.email, colleague.org_admin = None, email, admin
    organisation = session.get(Organisation, actor.organisation_id)
    token = accounts.issue(session, user_id=colleague.id, purpose=v.TokenPurpose.INVITE)
    accounts.queue_mail(session, to=email, subject=f"{inviter.name} 邀请您加入平台", lines=[
        f"{colleague.name}，您好：", "",
        f"{inviter.name} 邀请您以“{organisation.name}”成员的身份使用科技成果转化对接平台。",
        "请在 7 天内打开下面的链接设置密码：", f"{public_url}/web/invitation?token={token}"])
    audit.record(session, audit.USER_CREATED, actor=actor, subject=f"user:{colleague.id}", via="invitation")
    return colleague


def set_password_by_link(session: Session, *, token: str, purpose: v.TokenPurpose, password: str) -> User:
    """Accept an invitation or reset a forgotten password: the link's person gets this password."""
    person = accounts.peek(session, token, purpose)
    if person is None:
        raise InvalidInput.on("token", accounts.LINK_SPENT)
    problem = password_problem(password, login=person.name, email=person.email or "")
    if problem:
        raise InvalidInput.on("password", problem)
    person = accounts.redeem(session, token, purpose)
    person.password_hash = hash_password(password)
    person.email_verified_at = person.email_verified_at or dt.datetime.now(dt.UTC)   # the link reached the inbox
    audit.record(session, audit.PASSWORD_SET, actor=None, subject=f"user:{person.id}", via=purpose.value)
    return person


def request_password_reset(session: Session, *, email: str, public_url: str) -> None:
    """Mail a reset link when the address belongs to a person; say nothing either way (no account discovery)."""
    email = accounts.normal_email(email)
    person = session.scalar(select(User).where(func.lower(User.email) == email, User.revoked_at.is_(None),
                                               User.password_hash.is_not(None)).limit(1))
    if person is None:
        return
    token = accounts.issue(session, user_id=person.id, purpose=v.TokenPurpose.RESET_PASSWORD)
    accounts.queue_mail(session, to=person.email, subject="重设密码", lines=[
        f"{person.name}，您好：", "", "有人（希望是您）申请重设平台密码。请在 1 小时内打开下面的链接设置新密码：",
        f"{public_url}/web/reset-password?token={token}", "", "如果不是您本人操作，请忽略本邮件，原密码仍然有效。"])
