"""Who hears of a posting: an organisation's people, read once per session only when a batch asks for it."""

from sqlalchemy import select

from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.identity.services import create_user
from matchmaker.models import Organisation
from matchmaker.notices.services import organisation_users, remember_organisation_users


def test_a_session_remembers_an_organisations_people_only_when_a_batch_asks(seeded_url):
    engine = make_engine(seeded_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        office = session.scalar(select(Organisation.id).where(Organisation.kind == "university").order_by(Organisation.id))
        before = organisation_users(session, office)
        joined, _ = create_user(session, role="office", organisation_id=office, name="新同事")
        session.flush()
        assert sorted(organisation_users(session, office)) == sorted([*before, joined.id])   # a request sees the newcomer
    with transaction(factory) as session:
        remember_organisation_users(session)
        seen = organisation_users(session, office)
        assert joined.id in seen
        later, _ = create_user(session, role="office", organisation_id=office, name="又一位同事")
        session.flush()
        assert organisation_users(session, office) == seen   # remembered: the batch promised to add no one
        with factory() as other:
            assert later.id not in organisation_users(other, office)   # not committed yet
    with factory() as session:
        assert later.id in organisation_users(session, office)   # a new session reads afresh
    engine.dispose()
