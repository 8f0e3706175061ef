"""create_app(settings) -> the Litestar application; nothing is built at import time."""

from __future__ import annotations

import gc
import threading

import msgspec
from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag

from matchmaker import __version__
from matchmaker.api.body_guard import guard_request
from matchmaker.api.deps import provide_session
from matchmaker.api.problems import EXCEPTION_HANDLERS, document_problems
from matchmaker.api.spec import build_spec_lazily
from matchmaker.config import Settings
from matchmaker.db import make_engine, make_session_factory
from matchmaker.identity.authentication import API_EXCLUDE, TokenAuthentication, provide_actor
from matchmaker.matching.service import close_matching, matching_service
from matchmaker.readiness import readiness, require_ready

MAX_BODY_BYTES = 2_000_000  # a posting is a few kB; bulk imports go through the CLI or in pages of rows


class Health(msgspec.Struct):
    status: str       # "ok" when every part below is; "starting" while the matcher loads; else "unavailable"
    version: str
    database: str     # "ok", or what is wrong and what to do
    index_dir: str
    matcher: str      # "ready", "loading", or "not started"


@get("/health", operation_id="health", tags=["system"], exclude_from_auth=True, security=[], sync_to_thread=True,
     responses={503: ResponseSpec(data_container=Health, description="Not ready: the body says which part")})
def health(state: State) -> Response[Health]:
    """Readiness: the database at the schema's head, a writable index directory, the matcher loaded (public)."""
    found = readiness(state.engine, state.settings.index_dir)
    service = state.get("matching")
    matcher = "ready" if service is not None and service.matcher is not None else \
        ("loading" if state.get("warming") else "not started")
    ok = found.ready and matcher != "loading"
    status = "ok" if ok else ("starting" if found.ready else "unavailable")
    return Response(Health(status, __version__, found.database, found.index_dir, matcher),
                    status_code=200 if ok else 503)


def route_handlers() -> list:
    from matchmaker.analytics.controllers import AnalyticsController
    from matchmaker.brokerage.after_signing_controllers import AfterSigningController, InventorController
    from matchmaker.brokerage.controllers import (
        BrokerController,
        ContractController,
        FeedbackController,
        PipelineController,
    )
    from matchmaker.catalog.controllers import (
        AchievementController,
        DemandController,
        OrganisationController,
        ReferenceController,
    )
    from matchmaker.identity.controllers import AuditController, UserController
    from matchmaker.matching.controllers import MatchController
    from matchmaker.deals.controllers import DealController, IntroductionController
    from matchmaker.notices.controllers import MeController
    from matchmaker.push.controllers import InboxController, NoticeController, SubscriptionController
    from matchmaker.trading.controllers import AuctionController, ListingController, PriceNoticeController
    from matchmaker.trading.challenge_controllers import ChallengeController
    from matchmaker.catalog.evaluation_controllers import EvaluationController

    return [health, UserController, AuditController, OrganisationController, AchievementController, DemandController,
            ReferenceController, MatchController, InboxController, SubscriptionController, NoticeController,
            BrokerController, PipelineController, ContractController, FeedbackController, AnalyticsController,
            IntroductionController, DealController, MeController, AfterSigningController, InventorController,
            ListingController, PriceNoticeController, AuctionController, ChallengeController,
            EvaluationController]


def publication_hook(state: State):
    """What publishing a record sets off: pushes to matching counterparts (in the publishing transaction) and the
    embedding of its text by the job worker (the worker's periodic run catches anything enqueued too early)."""
    from matchmaker.jobs import enqueue, make_queue
    from matchmaker.push.services import push_published

    def on_publish(session, library, record) -> None:
        push_published(session, matching=matching_service(state), library=library, record=record)
        if state.get("jobs") is None:   # made on first use: a server that never publishes needs no queue file
            state.jobs = make_queue(state.settings)
        enqueue(state.jobs, "embed_pending")

    return on_publish


def create_app(settings: Settings | None = None) -> Litestar:
    # Pages for people (matchmaker/web): their own /web router with session login and CSRF; `/` redirects there.
    from matchmaker.web.setup import page_misses, template_config, web_handlers

    settings = settings or Settings.from_env()
    app = Litestar(
        route_handlers=route_handlers() + web_handlers(settings),
        template_config=template_config(),
        dependencies={"session": Provide(provide_session), "actor": Provide(provide_actor, sync_to_thread=False)},
        middleware=[DefineMiddleware(TokenAuthentication, exclude=API_EXCLUDE)],
        exception_handlers=page_misses(EXCEPTION_HANDLERS),
        before_request=guard_request,
        request_max_body_size=MAX_BODY_BYTES,
        on_startup=[check_ready],
        on_shutdown=[dispose_engine],
        openapi_config=OpenAPIConfig(
            title="matchmaker",
            version=__version__,
            description="Technology-transfer matchmaking: the achievements and demand libraries, matches, brokers' deals.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
            components=Components(security_schemes={"bearerAuth": SecurityScheme(type="http", scheme="bearer")}),
            security=[{"bearerAuth": []}],
            tags=[Tag(name="users", description="Users, roles and API tokens")],
        ),
    )
    document_problems(app)  # every error is application/problem+json; say which statuses each operation can answer
    build_spec_lazily(app)
    return bind(app, settings)


# What `web_handlers` builds into the routes from the settings; every other setting is read from `app.state`.
BUILT_FROM = ("secret_key", "secure_cookies")


def bind(app: Litestar, settings: Settings) -> Litestar:
    """Give the app its database and state: everything a request reads lives in a new `app.state` (and the
    page-session store over the same database). Registering the routes is most of `create_app`'s half second, so
    the tests rebind a stopped app to the next test's database instead of building another (tests/conftest.py);
    only settings outside BUILT_FROM may differ."""
    from matchmaker.web.session_store import DatabaseStore

    engine = make_engine(settings.database_url, echo=settings.echo_sql)
    app.state = State({"settings": settings, "engine": engine, "session_factory": make_session_factory(engine)})
    app.state.on_publish = publication_hook(app.state)
    app.stores.register("sessions", DatabaseStore(app.state.session_factory), allow_override=True)
    return app


def check_ready(app: Litestar) -> None:
    # Refuse to start on a database behind the schema or an index directory that cannot be written: every
    # request would fail later, and less clearly.
    state = app.state   # this start's state: a warm-up still running when the app is rebound writes into its own
    require_ready(state.engine, state.settings.index_dir)
    if state.settings.warm_matcher:   # load or build the index now, not inside the first match request
        state.warming = True

        def warm() -> None:
            try:
                matching_service(state)
                # What the process holds from here on (the index, the app, the libraries: 288,000 objects at the
                # province scale) leaves the collector's full passes, each of which stalled a worker for 150-165 ms
                # and made the match endpoint's p99 (benchmarks/speed/README.md).
                gc.collect()
                gc.freeze()
                # Young objects are collected every 10,000 allocations instead of 700: what a worker keeps after
                # this (kept rankings and their rows) still reaches the full passes, and at the default a worker
                # under load made one every 4-5 s, 67 ms of CPU each (110-130 ms of wall with both cores busy);
                # at 10,000, none in 20 s, and a third of the collector's time (benchmarks/speed/README.md).
                gc.set_threshold(10_000, *gc.get_threshold()[1:])
            finally:
                state.warming = False

        threading.Thread(target=warm, name="matcher-warm-up", daemon=True).start()


def dispose_engine(app: Litestar) -> None:
    try:
        close_matching(app.state)
    finally:   # a database that refuses the last impressions still gets its connections back
        app.state.engine.dispose()
