"""Schemathesis against the live spec of a real `matchmaker serve`, as every role, on SQLite and PostgreSQL.

Every operation of `/schema/openapi.json` gets generated requests, valid (positive) and invalid (negative), sent by
an office, a firm, a broker, an analyst and an admin. Each response must not be a 5xx, must carry a status code the
spec documents for that operation, the documented content type, and a body that validates against the documented
schema. Failures are collected over all operations and roles, then reported together.

Budget: EXAMPLES positive + EXAMPLES negative examples per operation and role (hypothesis may produce fewer when an
operation has few distinct inputs), with no shrinking, so the run is bounded; the test asserts at least
MIN_REQUESTS requests were sent per database. `MATCHMAKER_SCHEMATHESIS_EXAMPLES` changes the budget and
`MATCHMAKER_SCHEMATHESIS_SEED=random` draws a new seed (the default run is derandomised, so CI is repeatable).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest

if os.environ.get("CI"):
    import schemathesis  # CI installs it: a missing package must fail there, not skip
else:
    schemathesis = pytest.importorskip("schemathesis", reason="pip install schemathesis (see the test extras)")

import requests  # noqa: E402 - schemathesis's own transport; installed with it
from hypothesis import HealthCheck, Phase, assume, given, settings  # noqa: E402
from live_server import Server  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select  # noqa: E402

from matchmaker.db import make_engine, make_session_factory, transaction  # noqa: E402
from matchmaker.identity.services import create_user  # noqa: E402
from matchmaker.models import Organisation  # noqa: E402

ROLE_ORGANISATION_KIND = {"office": "university", "firm": "enterprise", "broker": "agency",
                          "analyst": "government", "admin": "government"}
# Admin last: its writes (approvals, withdrawals, revocations) would otherwise change what the others see.
ROLES = ["office", "firm", "broker", "analyst", "admin"]
EXAMPLES = int(os.environ.get("MATCHMAKER_SCHEMATHESIS_EXAMPLES", "4"))  # 55 operations x 5 roles x 2 modes x 4 = 2,200
MIN_REQUESTS = 1000
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
REQUEST_TIMEOUT = 30  # seconds; the first match call builds the matcher


@dataclass
class Tally:
    requests: int = 0
    by_role: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    operations: set = field(default_factory=set)
    failures: list[str] = field(default_factory=list)


def _mint_token(url: str, role: str) -> tuple[int, str]:
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            organisation_id = session.scalar(select(Organisation.id).where(
                Organisation.kind == ROLE_ORGANISATION_KIND[role]).order_by(Organisation.id).limit(1))
            assert organisation_id is not None, f"the demo world has no {ROLE_ORGANISATION_KIND[role]} organisation"
            user, token = create_user(session, role=role, organisation_id=organisation_id, name=f"schemathesis-{role}")
            return user.id, token
    finally:
        engine.dispose()


def _hypothesis_settings() -> settings:
    seed = os.environ.get("MATCHMAKER_SCHEMATHESIS_SEED", "fixed")
    return settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=(seed == "fixed"),
                    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
                    suppress_health_check=list(HealthCheck), print_blob=False)


def _exercise(operation, mode: GenerationMode, *, base_url: str, http: requests.Session, headers: dict,
              user_id: int, role: str, tally: Tally) -> None:
    @_hypothesis_settings()
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        # An admin revoking its own token would turn the rest of its run into 401s.
        assume(not (operation.label == "POST /users/{user_id}/revoke"
                    and (case.path_parameters or {}).get("user_id") == user_id))
        response = case.call(base_url=base_url, session=http, headers=headers, timeout=REQUEST_TIMEOUT)
        tally.requests += 1
        tally.by_role[role] += 1
        tally.statuses[response.status_code] += 1
        tally.operations.add(operation.label)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - schemathesis raises a FailureGroup; collect all
        tally.failures.append(f"[{role}] {operation.label} ({mode.value}): {error}")


def _run_schemathesis(url: str, tmp_path) -> Tally:
    server = Server(url, tmp_path, workers=1).start()
    tally = Tally()
    try:
        schema = schemathesis.openapi.from_url(f"{server.base_url}/schema/openapi.json", timeout=30)
        operations = [result.ok() for result in schema.get_all_operations()]
        labels = {operation.label for operation in operations}
        assert len(operations) >= 50, f"the live spec lists only {len(operations)} operations"
        with requests.Session() as http:
            for role in ROLES:
                user_id, token = _mint_token(url, role)  # a fresh token, in case an admin run revoked an earlier one
                headers = {"Authorization": f"Bearer {token}"}
                for operation in operations:
                    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                        _exercise(operation, mode, base_url=server.base_url, http=http, headers=headers,
                                  user_id=user_id, role=role, tally=tally)
        missing = labels - tally.operations
        assert not missing, f"operations never called: {sorted(missing)}"
        if tally.failures:
            log = server.log_text()
            pytest.fail(f"{len(tally.failures)} failure(s) over {tally.requests} requests:\n\n"
                        + "\n\n".join(tally.failures) + f"\n\nserver log (tail):\n{log[-4000:]}")
    finally:
        server.stop()
    return tally


@pytest.mark.slow
def test_live_spec_holds_for_every_operation_and_role(seeded_url, tmp_path):
    started = time.monotonic()
    tally = _run_schemathesis(seeded_url, tmp_path)
    elapsed = time.monotonic() - started
    backend = seeded_url.split(":", 1)[0].split("+", 1)[0]
    print(f"\nschemathesis {schemathesis.__version__} on {backend}: {tally.requests} requests over "
          f"{len(tally.operations)} operations in {elapsed:.1f}s; by role {dict(tally.by_role)}; "
          f"statuses {dict(sorted(tally.statuses.items()))}")
    assert tally.requests >= MIN_REQUESTS, f"only {tally.requests} requests; raise MATCHMAKER_SCHEMATHESIS_EXAMPLES"
