"""The declarative base, the column types every table shares (money, mode sets, UTC times) and timestamps."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, MetaData, Numeric, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from matchmaker import vocabulary as v

# Stable constraint names so migrations and models agree on both SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(16, 2)  # yuan; never floats for money


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ModeSet(TypeDecorator):
    """A set of TransferMode values stored as a bit mask (filterable with & in SQL on both databases)."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or isinstance(value, int):
            return value
        return v.modes_to_mask(value)

    def process_result_value(self, value, dialect):
        return None if value is None else v.mask_to_modes(value)


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python, on both databases.

    SQLite stores DateTime(timezone=True) values without an offset and hands them back naive; the API must send
    RFC 3339 date-times (with an offset), so values are converted to UTC on the way in and read back as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def one_of(column: str, enum) -> str:
    allowed = ", ".join(f"'{value}'" for value in v.values(enum))
    return f"{column} IN ({allowed})"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
