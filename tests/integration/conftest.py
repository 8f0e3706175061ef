"""Fixtures for integration tests: a migrated database with the catalog's test reference rows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert, select

from matchmaker.db import make_engine
from mail_catcher import MailCatcher
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


@pytest.fixture
def smtp_server() -> Iterator[MailCatcher]:
    catcher = MailCatcher()
    catcher.controller.start()
    yield catcher
    catcher.controller.stop()
