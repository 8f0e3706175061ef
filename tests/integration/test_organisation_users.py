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


def test_notices_told_in_a_batch_block_are_written_at_its_end_once_per_person_and_event(database_url, migrated_url):
    from sqlalchemy import func

    from matchmaker import vocabulary as v
    from matchmaker.models import Notice
    from matchmaker.notices.services import notices_written_together, notify

    engine = make_engine(migrated_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        office = Organisation(name="某大学技术转移中心", kind="university", region_code="110000")
        session.add(office)
        session.flush()
        people = [create_user(session, role="office", organisation_id=office.id, name=f"同事{i}")[0].id for i in range(2)]
    count = lambda session: session.scalar(select(func.count()).select_from(Notice))  # noqa: E731
    with transaction(factory) as session:
        notify(session, people, kind=v.NoticeKind.DEAL_STAGE, event="stage:a", title="对接进展")
        assert count(session) == 2   # outside a block: written where told
    with transaction(factory) as session:
        with notices_written_together(session):
            assert notify(session, people, kind=v.NoticeKind.DEAL_STAGE, event="stage:b", title="对接进展") == 2
            notify(session, people[:1], kind=v.NoticeKind.DEAL_STAGE, event="stage:b", title="对接进展")   # a repeat
            notify(session, people, kind=v.NoticeKind.DEAL_STAGE, event="stage:a", title="对接进展")      # told before
            assert count(session) == 2   # nothing written yet
        assert count(session) == 4       # the block's end: stage:b once per person, stage:a not again
        assert notify(session, people, kind=v.NoticeKind.DEAL_STAGE, event="stage:c", title="对接进展") == 2
    try:
        with transaction(factory) as session, notices_written_together(session):
            notify(session, people, kind=v.NoticeKind.DEAL_STAGE, event="stage:d", title="对接进展")
            raise RuntimeError("the batch failed")
    except RuntimeError:
        pass
    with factory() as session:
        assert count(session) == 6       # the failed block wrote none of its notices
        assert session.info.get("notices_waiting") is None
    engine.dispose()
