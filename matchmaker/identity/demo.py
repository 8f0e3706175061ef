"""One demo user per role with a fixed password, in a seeded world, for `make demo` and the page tests."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.identity.services import create_user, set_password
from matchmaker.models import Broker, Organisation, User

# (role, login name, password, organisation kind). Demo only: these passwords are printed in the README.
DEMO_USERS = (
    (v.Role.OFFICE, "demo_office", "office-demo-2026", v.OrganisationKind.UNIVERSITY),
    (v.Role.FIRM, "demo_firm", "firm-demo-2026", v.OrganisationKind.ENTERPRISE),
    (v.Role.BROKER, "demo_broker", "broker-demo-2026", v.OrganisationKind.AGENCY),
    (v.Role.ANALYST, "demo_analyst", "analyst-demo-2026", v.OrganisationKind.GOVERNMENT),
    (v.Role.ADMIN, "demo_admin", "admin-demo-2026", v.OrganisationKind.GOVERNMENT),
    (v.Role.ANALYST, "demo_province_analyst", "province-analyst-2026", v.OrganisationKind.GOVERNMENT),
    (v.Role.ANALYST, "demo_city_analyst", "city-analyst-2026", v.OrganisationKind.GOVERNMENT),
    (v.Role.EXPERT, "demo_expert", "expert-demo-2026", v.OrganisationKind.INSTITUTE),
    (v.Role.EXPERT, "demo_evaluator", "evaluator-demo-2026", v.OrganisationKind.EVALUATOR),
)
# Regional markets: demo_analyst works for the whole platform; the province analyst sees the department's
# province and all its cities, the city analyst only its city (大连 in the 辽宁 demo world). Admins see all.
MARKETS = {"demo_province_analyst": "province", "demo_city_analyst": "city"}
DISPLAY_NAMES = {"demo_office": "李文博", "demo_firm": "王海燕", "demo_broker": "赵立新", "demo_analyst": "陈静",
                 "demo_admin": "周平", "demo_province_analyst": "孙悦", "demo_city_analyst": "刘洋",
                 "demo_expert": "郑明远", "demo_evaluator": "钱思远"}


def ensure_demo_users(session: Session) -> list[tuple[str, str, str, str]]:
    """Create (or reset the password of) each demo user; returns (role, login, password, organisation name).

    Idempotent: a second call finds the users by login and role and only sets the passwords again. Each gets an
    address on the reserved .test domain, so a demo with MATCHMAKER_SMTP_URL set mails a local catcher.
    The organisation is the first of its kind by id, so a given world always yields the same accounts.
    Raises LookupError when the world has no organisation of a needed kind (seed a world first).
    """
    made = []
    for role, login, password, kind in DEMO_USERS:
        organisation = session.scalar(select(Organisation).where(Organisation.kind == kind.value)
                                      .order_by(Organisation.id).limit(1))
        if organisation is None:
            raise LookupError(f"no {kind.value} organisation: seed a world before creating demo users")
        user = session.scalar(select(User).where(or_(User.login == login, User.name == login), User.role == role.value))
        if user is None:
            user, _token = create_user(session, role=role.value, organisation_id=organisation.id, name=login)
        # People see a person's name; the login name is only typed (issue 14: no "欢迎，demo_firm").
        user.login, user.name = login, DISPLAY_NAMES[login]
        broker = session.scalar(select(Broker).where(Broker.user_id == user.id))
        if broker is not None:
            broker.name = user.name
        set_password(session, user.id, password)
        if login in MARKETS and organisation.region_code:
            province = organisation.region_code[:2] + "0000"
            user.region_code = province if MARKETS[login] == "province" else _demo_city(session, province)
        user.email = user.email or f"{login}@matchmaker.test"   # the reserved .test domain: never a real inbox
        made.append((role.value, login, password, session.get(Organisation, user.organisation_id).name))
    return made


def _demo_city(session: Session, province: str) -> str:
    """大连 in 辽宁 (the city the seeds talk about), else the province's first city."""
    from matchmaker.models import Region

    dalian = session.get(Region, "210200")
    if province == "210000" and dalian is not None:
        return dalian.code
    return session.scalar(select(Region.code).where(Region.parent_code == province).order_by(Region.code).limit(1)) or province
