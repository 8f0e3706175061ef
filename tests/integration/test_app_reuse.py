"""The api and pages fixtures rebind one built app from test to test (`app.bind`) instead of building another: what
one test left in the app must not reach the next."""

from __future__ import annotations

from litestar.testing import TestClient
from sqlalchemy import insert, select

from matchmaker.config import Settings
from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.identity.services import create_user
from matchmaker.models import Demand, Organisation


def test_a_rebound_app_reads_only_its_new_database_and_keeps_nothing_of_the_last(app_for, templates, tmp_path):
    world = templates.copy_into("seeded", f"sqlite:///{tmp_path / 'world.db'}")
    empty = templates.copy_into("migrated", f"sqlite:///{tmp_path / 'empty.db'}")
    engine = make_engine(world)
    with engine.connect() as conn:
        demand = conn.scalar(select(Demand.id).where(Demand.status == "published").order_by(Demand.id))
    engine.dispose()

    with app_for(Settings(database_url=world, index_dir=tmp_path / "world-index")) as first, TestClient(first) as client:
        admin = _admin(world)
        assert client.get("/achievements", headers=admin).json()["total"] > 0
        assert client.get(f"/demands/{demand}/matches", headers=admin).status_code == 200
        assert first.state.get("matching") is not None
        first_state = first.state

    with app_for(Settings(database_url=empty, index_dir=tmp_path / "empty-index")) as second, \
            TestClient(second) as client:
        assert second is first                   # the same routes, rebound
        assert second.state is not first_state and second.state.get("matching") is None
        assert client.get("/achievements", headers=admin).status_code == 401   # the last database's token
        assert client.get("/achievements", headers=_admin(empty)).json()["total"] == 0
        sessions = second.stores.get("sessions").session_factory
        assert str(sessions.kw["bind"].url) == empty   # page sessions are kept in the new database


def _admin(url: str) -> dict[str, str]:
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        platform = session.scalar(select(Organisation.id).order_by(Organisation.id))
        if platform is None:   # the empty database
            platform = session.scalar(insert(Organisation).values(name="省科技厅", kind="government",
                                                                   region_code="210000").returning(Organisation.id))
        _, token = create_user(session, role="admin", organisation_id=platform, name="admin")
    engine.dispose()
    return {"Authorization": f"Bearer {token}"}
