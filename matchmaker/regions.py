"""GB/T 2260 administrative codes as a value: level, province, city, containment, and the SQL condition for a region.

A code has six digits: two for the province, two for the prefecture-level city, two for the county. 210000 is
辽宁省, 210200 大连市, 210202 中山区. A province contains its cities and counties, a city its counties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

CODE = re.compile(r"^\d{6}$")


class Level(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


def malformed_region(code: str) -> str:
    """The one sentence for a region filter that is not six digits, with what to write."""
    return f"地区代码“{code}”应为 6 位数字的行政区划代码（GB/T 2260），例如大连市 210200。"


def unknown_region(code: str) -> str:
    """The one sentence for a region code that is not a GB/T 2260 code the platform holds, with what to write."""
    return f"地区代码“{code}”不存在，请填写有效的 6 位行政区划代码（GB/T 2260），例如辽宁省 210000、大连市 210200"


@dataclass(frozen=True)
class RegionCode:
    code: str

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not CODE.match(self.code):
            raise ValueError(f"region code must be a six-digit GB/T 2260 string, got {self.code!r}")

    @property
    def level(self) -> Level:
        if self.code.endswith("0000"):
            return Level.PROVINCE
        if self.code.endswith("00"):
            return Level.CITY
        return Level.COUNTY

    @property
    def prefix(self) -> str:
        """The digits every code inside this region starts with: 2 for a province, 4 for a city, 6 for a county."""
        return self.code[: {Level.PROVINCE: 2, Level.CITY: 4, Level.COUNTY: 6}[self.level]]

    @property
    def province(self) -> str:
        return self.code[:2] + "0000"

    @property
    def city(self) -> str:
        """The prefecture-level city (the province itself for a province code)."""
        return self.code[:4] + "00"

    def contains(self, code: str | None) -> bool:
        """Whether a record's code lies inside this region (a province holds its cities and counties)."""
        return bool(code) and code.startswith(self.prefix)

    def condition(self, column):
        """The SQL condition "column lies inside this region" (LIKE on the prefix: an index can serve it)."""
        return column == self.code if self.level is Level.COUNTY else column.like(self.prefix + "%")


def province_of(code: str) -> str:
    return RegionCode(code).province


def city_of(code: str) -> str:
    return RegionCode(code).city


def same_province(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and a[:2] == b[:2]


def same_city(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and a[:4] == b[:4]
