"""Shared fixtures: throwaway SQLite files and throwaway PostgreSQL databases on the local server."""

from __future__ import annotations

import functools
import gc
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

POSTGRES_URL = os.environ.get("MATCHMAKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_collection_finish(session) -> None:
    """Every test module is imported by now: what exists is there for the whole session, so the collector stops
    walking it (gc.freeze), and collects young objects 14 times less often. A test process holds ~700,000 objects
    (Litestar, SQLAlchemy, scikit-learn, hypothesis, …) and the tests make ~200,000 more with each app; with
    Python's defaults, full collections of that heap took 9% of the suite's time (benchmarks/speed/README.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def pytest_collection_modifyitems(items) -> None:
    """The longest tests go first — schemathesis's (minutes each), then the others marked slow, in their own order so
    a module's fixtures still serve its tests together: under xdist's work stealing, a long test that a worker
    starts near the end keeps the other worker idle."""
    items.sort(key=lambda item: (item.get_closest_marker("slow") is None, "schemathesis" not in item.nodeid))


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'matchmaker.db'}"


def _admin_engine():
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


# Where the test databases' files go: a tablespace in this folder when it is a memory file system the server can
# write to (on this machine's ext4 without a journal, making the ~600 files of each copied database spent 80% of
# PostgreSQL's CPU in the kernel looking for an inode not deleted in the last five minutes: a copy and its drop took
# 0.50 s of CPU there and 0.045 s on /dev/shm; benchmarks/speed/README.md). Empty: the server's default.
TABLESPACE_FOLDER = os.environ.get("MATCHMAKER_TEST_TABLESPACE", "/dev/shm")


@functools.cache
def _tablespace() -> str:
    """` TABLESPACE "…"` for CREATE DATABASE, or "" (the server's default) when the folder is not there, the server is
    on another host or this process may not give the folder to the server's user. Named by the boot, since memory
    file systems start empty: a tablespace of an earlier boot has no folder any more."""
    folder = Path(TABLESPACE_FOLDER) if TABLESPACE_FOLDER else None
    if folder is None or not folder.is_dir() or make_url(POSTGRES_URL).host not in (None, "127.0.0.1", "localhost"):
        return ""
    boot = Path("/proc/sys/kernel/random/boot_id").read_text()[:8] if Path("/proc/sys/kernel/random").exists() else "0"
    name, location = f"mm_tests_{boot}", folder / f"matchmaker-tests-{boot}"
    exists = text("SELECT 1 FROM pg_tablespace WHERE spcname = :name").bindparams(name=name)
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            if conn.scalar(exists) is None:
                try:
                    owner = Path(conn.scalar(text("SHOW data_directory"))).stat()
                    location.mkdir(exist_ok=True)
                    os.chown(location, owner.st_uid, owner.st_gid)
                    conn.execute(text(f"CREATE TABLESPACE \"{name}\" LOCATION '{location}'"))
                except (OSError, DBAPIError):   # not the folder's owner, or the other test process made it first
                    pass
            made = conn.scalar(exists) is not None
    finally:
        admin.dispose()
    return f' TABLESPACE "{name}"' if made else ""


# Fixtures that make the test's database as a copy of a template (CREATE DATABASE … TEMPLATE): an empty database
# made for them first would only be dropped again (a third of a second a test).
TEMPLATE_COPIES = {"seeded_url", "migrated_url"}


@pytest.fixture
def postgres_url(request) -> Iterator[str]:
    """A new empty database per test, dropped afterwards; CI must have the server, so it fails there instead of skipping."""
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any connection failure means "no server"
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required in CI: {error}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    name = f"mm_test_{uuid.uuid4().hex[:12]}"
    if not TEMPLATE_COPIES & set(request.fixturenames):
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{_tablespace()}'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


RUN = "MATCHMAKER_TEST_RUN"   # this run's id, set by the controlling process and inherited by xdist's workers


# Where the tests' folders (tmp_path: SQLite copies, servers' logs and indexes, schemathesis's files) go when the
# runner does not say (pytest's PYTEST_DEBUG_TEMPROOT): a memory file system, as for PostgreSQL's tablespace above. A
# run writes ~12,000 files and 1.4 GB there, and pytest deletes an old run's at the end; on this machine's disk, 244
# API tests took 34.4 s (median of four) and in /dev/shm 32.5 s, alternated (benchmarks/speed/README.md). Only the
# last run's folders are kept (pyproject.toml), since they take memory.
TEMPROOT, MEMORY = "PYTEST_DEBUG_TEMPROOT", "/dev/shm"


def pytest_configure(config) -> None:
    if not hasattr(config, "workerinput"):   # the controlling process: xdist's workers inherit both
        os.environ.setdefault(RUN, uuid.uuid4().hex[:8])
        if TEMPROOT not in os.environ and os.access(MEMORY, os.W_OK | os.X_OK):
            os.environ[TEMPROOT] = MEMORY


def pytest_sessionfinish(session) -> None:
    """The run's PostgreSQL templates go when the whole run ends: by the controlling process under xdist (a worker
    that finishes first must not drop what the other still copies), by the only process otherwise."""
    if hasattr(session.config, "workerinput") or RUN not in os.environ:
        return
    try:
        admin = _admin_engine()
        with admin.connect() as conn:
            for name in conn.scalars(text("SELECT datname FROM pg_database WHERE datname LIKE :names"),
                                     {"names": f"mm_template_%_{os.environ[RUN]}"}):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    except Exception:  # noqa: BLE001 - no server: nothing was made on it
        pass


def built_once(ready: Path, build) -> None:
    """`build()` once for the whole run, in whichever test process gets here first, while the other waits on the
    lock; the file `ready` says it is done."""
    import fcntl

    ready.parent.mkdir(parents=True, exist_ok=True)
    with open(ready.with_name(ready.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            build()
            ready.touch()


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory) -> Path:
    """The folder every test process of this run shares: xdist's base folder, or the only process's own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def once():
    """`built_once` for the test modules (they cannot import this file)."""
    return built_once


class Templates:
    """Each database state the tests start from is built once per run and copied per test: a file copy on SQLite,
    CREATE DATABASE … TEMPLATE on PostgreSQL (seeding the demo world takes seconds; a copy, milliseconds). Under
    xdist both test processes share one build of each, in their common folder: the first to need it builds it under
    a lock while the other waits (each process building its own was 15–20 s of CPU, migrations and seeding)."""

    def __init__(self, folder) -> None:
        self.folder = folder
        self.built: dict[tuple[str, str], str] = {}
        self.copied: dict[str, tuple[str, str]] = {}   # a copy's URL -> the template it is a copy of

    def copy_into(self, kind: str, url: str) -> str:
        backend = make_url(url).get_backend_name()
        template = self.built.get((backend, kind)) or self._shared(backend, kind)
        if backend == "sqlite":
            import shutil

            shutil.copyfile(template, make_url(url).database)
        else:
            name = make_url(url).database
            admin = _admin_engine()
            with admin.connect() as conn:   # the copy lands in the template's tablespace (`_tablespace`)
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            admin.dispose()
        self.copied[url] = (backend, kind)
        return url

    def index_into(self, url: str, index_dir: Path) -> None:
        """The saved matcher of the world this URL copies, made for this copy (`saved_matcher.copy_saved`): the
        app loads it and follows the change log from there, as a restarted server does, instead of fitting both
        libraries again (0.17-0.23 s of CPU against 0.04-0.06 s, in ~90 tests a run). Worlds without one: nothing."""
        from matchmaker.matching.saved_matcher import copy_saved

        template = self.copied.get(url)
        saved = self._index(*template) / "matcher" if template else None
        if saved is not None and saved.is_dir():
            copy_saved(saved, index_dir / "matcher", database_url=url)

    def _index(self, backend: str, kind: str) -> Path:
        return self.folder / f"{backend}-{kind}-index"

    def _shared(self, backend: str, kind: str) -> str:
        location = (str(self.folder / f"{kind}.db") if backend == "sqlite"
                    else f"mm_template_{kind}_{os.environ[RUN]}")
        built_once(self.folder / f"{backend}-{kind}.ready",
                   lambda: self._build(backend, kind, location, self._index(backend, kind)))
        self.built[(backend, kind)] = location
        return location

    @staticmethod
    def _build(backend: str, kind: str, location: str, index_dir: Path) -> None:
        from matchmaker import migrate
        from matchmaker.db import make_engine
        from matchmaker.reference import sync_reference_data

        if backend == "sqlite":
            url = f"sqlite:///{location}"
        else:
            admin = _admin_engine()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{location}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{location}"{_tablespace()}'))
            admin.dispose()
            url = make_url(POSTGRES_URL).set(database=location).render_as_string(hide_password=False)
        migrate.upgrade(url)
        engine = make_engine(url)
        sync_reference_data(engine)
        if kind in ("seeded", "demo"):
            from matchmaker.catalog.expiry import expire_overdue
            from matchmaker.config import Settings
            from matchmaker.db import make_session_factory, transaction
            from matchmaker.matching.service import MatchingService
            from matchmaker.world.generate import generate_world

            generate_world(engine, scale="demo", seed=1)
            factory = make_session_factory(engine)
            # The world as the day's first read leaves it: postings past their dates expired (catalog/expiry.py).
            # Left to the tests' servers, each request refused after that expiry (a 404, a 422) rolled it back
            # and the next redid it, ~730 postings each time: schemathesis's runs for two roles took 53.4 / 55.8 s
            # of CPU so, 50.2 / 53.6 s from an expired world, alternated.
            with transaction(factory) as session:
                expire_overdue(session)
            if kind == "demo":   # and one demo user per role (the Chinese-pages crawl's world)
                from matchmaker.identity.demo import ensure_demo_users

                with transaction(factory) as session:
                    ensure_demo_users(session)
            # Its matcher, saved as a server saves it, for the tests' apps to load (`index_into`).
            MatchingService(Settings(database_url=url, index_dir=index_dir), factory).rebuild()
        engine.dispose()


@pytest.fixture(scope="session")
def templates(run_folder) -> Templates:
    return Templates(run_folder / "templates")


@pytest.fixture
def migrated_url(database_url, templates) -> str:
    """An empty database at the head revision with the reference data loaded."""
    return templates.copy_into("migrated", database_url)


@pytest.fixture
def seeded_url(database_url, templates, request) -> str:
    """A migrated database holding the demo world (seed 1); with the demo users when the test asks for the pages
    too, so that one database serves both fixtures (the `demo` template holds them, their passwords hashed once for
    the run: hashing nine scrypt passwords took 0.37 s of every page test)."""
    return templates.copy_into("demo" if "pages" in request.fixturenames else "seeded", database_url)


@pytest.fixture
def simulation_settings(tmp_path, templates, run_folder):
    """Settings for the simulator: a migrated main database (a copy of the template, not a migration per test) and
    the run's shared folder of generated worlds. A world is the same file whichever test asks for it
    (`runs.world_file` names it by scale, seed, generator and schema, and makes it under its own name before
    renaming it into place), so each is generated once per run instead of once per test."""
    from matchmaker.config import Settings

    url = templates.copy_into("migrated", f"sqlite:///{tmp_path / 'main.db'}")
    shared = run_folder / "simulation-worlds"
    shared.mkdir(exist_ok=True)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "worlds").symlink_to(shared, target_is_directory=True)
    return Settings(database_url=url, index_dir=tmp_path / "var" / "index")


class ApiUsers:
    """Creates users of each role and hands out ready Authorization headers."""

    def __init__(self, url: str) -> None:
        from matchmaker.db import make_engine, make_session_factory

        self.engine = make_engine(url)
        self.factory = make_session_factory(self.engine)

    def headers(self, role: str, organisation_id: int, name: str | None = None) -> dict[str, str]:
        from matchmaker.db import transaction
        from matchmaker.identity.services import create_user

        with transaction(self.factory) as session:
            _, token = create_user(session, role=role, organisation_id=organisation_id, name=name or f"{role}-{organisation_id}")
        return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class WorldOrganisations:
    """Named organisations of the demo world, found by what they hold (never by magic ids)."""

    office: int          # the office with the most published achievements
    other_office: int
    firm: int            # the firm with the most published demands
    other_firm: int
    agency: int          # a technology-transfer agency (brokers belong to one)
    platform: int        # where the platform's admins and analysts are filed

    @classmethod
    def of(cls, engine) -> "WorldOrganisations":
        from sqlalchemy import func, select

        from matchmaker.models import Achievement, Demand, Organisation

        with engine.connect() as conn:
            def busiest(model, kinds):
                return list(conn.scalars(
                    select(Organisation.id).join(model, model.organisation_id == Organisation.id)
                    .where(Organisation.kind.in_(kinds), model.status == "published")
                    .group_by(Organisation.id).order_by(func.count().desc(), Organisation.id).limit(2)))

            offices = busiest(Achievement, ("university", "institute"))
            firms = busiest(Demand, ("enterprise",))
            first = lambda kind: conn.scalar(select(Organisation.id).where(Organisation.kind == kind)  # noqa: E731
                                             .order_by(Organisation.id))
            platform = conn.scalar(select(func.min(Organisation.id)))
            return cls(offices[0], offices[1], firms[0], firms[1], first("agency"), platform)


# Apps this test process has built and stopped, by what their routes were built from (app.BUILT_FROM).
_IDLE_APPS: dict[tuple, list] = {}


@contextmanager
def _app_for(settings):
    """The app on these settings: a stopped one this process built before, rebound (`app.bind`), or a new one.
    Registering the routes is about half a second of every API and page test (benchmarks/speed/README.md); what a
    request reads is all in the new `app.state`, so no test sees the one before it."""
    from matchmaker.app import BUILT_FROM, bind, create_app

    key = tuple(getattr(settings, name) for name in BUILT_FROM)
    idle = _IDLE_APPS.setdefault(key, [])
    app = bind(idle.pop(), settings) if idle else create_app(settings)
    try:
        yield app
    finally:
        idle.append(app)


@pytest.fixture
def app_for():
    """`with app_for(settings) as app:` the app the api and pages fixtures use (tests/integration/test_app_reuse.py)."""
    return _app_for


@pytest.fixture
def api(seeded_url, tmp_path, templates):
    """A TestClient on the app over the demo world, plus `api.users` to mint tokens per role and `api.orgs`."""
    from litestar.testing import TestClient

    from matchmaker.config import Settings

    templates.index_into(seeded_url, tmp_path / "api-index")
    with _app_for(Settings(database_url=seeded_url, index_dir=tmp_path / "api-index")) as app, \
            TestClient(app) as client:
        client.users = ApiUsers(seeded_url)
        client.orgs = WorldOrganisations.of(client.users.engine)
        yield client
        client.users.engine.dispose()


@pytest.fixture
def pages(seeded_url, tmp_path, templates):
    """A TestClient on the app over the demo world with the demo users (`pages.passwords`); page_client.py logs in.
    On `seeded_url` (a copy of the `demo` template then), the same database as the `api` fixture's when a test asks
    for both."""
    from litestar.testing import TestClient

    from matchmaker.config import Settings
    from matchmaker.db import make_engine, make_session_factory
    from matchmaker.identity.demo import DEMO_USERS
    from matchmaker.models import User

    engine = make_engine(seeded_url)
    factory = make_session_factory(engine)
    passwords = {login: password for _r, login, password, _k in DEMO_USERS}
    with factory() as session:
        firm = session.scalar(select(User).where(User.login == "demo_firm")).organisation_id
    templates.index_into(seeded_url, tmp_path / "index")
    with _app_for(Settings(database_url=seeded_url, index_dir=tmp_path / "index", semantic=False)) as app, \
            TestClient(app) as client:
        client.factory, client.passwords, client.firm = factory, passwords, firm
        yield client
    engine.dispose()
