"""Fixtures for integration tests: a migrated database with the catalog's test reference rows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert, select

from matchmaker.db import make_engine
from matchmaker.models import TechnologyField

# Tests name these field codes themselves so they do not depend on what seeds/fields holds today.
TEST_FIELDS = {"test_new_energy": "新能源（测试）", "test_biomedicine": "生物医药（测试）"}


@pytest.fixture
def catalog_engine(migrated_url) -> Iterator[Engine]:
    """An engine on an empty migrated database (regions loaded) that also knows TEST_FIELDS."""
    engine = make_engine(migrated_url)
    with engine.begin() as conn:
        have = set(conn.scalars(select(TechnologyField.code)))
        missing = [{"code": code, "name": name} for code, name in TEST_FIELDS.items() if code not in have]
        if missing:
            conn.execute(insert(TechnologyField), missing)
    yield engine
    engine.dispose()


class MailCatcher:
    """A real SMTP server (aiosmtpd) on a free port that keeps every message it accepted, parsed."""

    def __init__(self, delay: float = 0.0) -> None:
        import socket

        from aiosmtpd.controller import Controller

        catcher = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):   # noqa: N802 - aiosmtpd's hook name
                import asyncio
                import email
                from email import policy

                if catcher.delay:
                    await asyncio.sleep(catcher.delay)
                catcher.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.delay, self.messages = delay, []
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]


@pytest.fixture
def smtp_server() -> Iterator[MailCatcher]:
    catcher = MailCatcher()
    catcher.controller.start()
    yield catcher
    catcher.controller.stop()
