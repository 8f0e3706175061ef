"""Readers for the curated domain data in seeds/ (regions, fields and their vocabulary, organisation names)."""

from __future__ import annotations

import csv
import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path


def seeds_dir() -> Path:
    """seeds/ beside the package (a source checkout); MATCHMAKER_SEEDS_DIR overrides."""
    override = os.environ.get("MATCHMAKER_SEEDS_DIR")
    return Path(override) if override else Path(__file__).resolve().parent.parent / "seeds"


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    level: str
    parent_code: str | None

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"


@dataclass(frozen=True)
class FieldVocabulary:
    code: str
    name: str
    industries: tuple[str, ...]
    terms: dict[str, tuple[str, ...]]
    synonyms: tuple[tuple[str, ...], ...]
    hierarchy: tuple[tuple[str, ...], ...]
    patterns: dict[str, tuple[str, ...]]
    # Coherent subjects: one term per slot (material, process, device, target, application) about one problem.
    subjects: tuple[dict[str, str], ...] = ()

    def all_terms(self) -> list[str]:
        seen: dict[str, None] = {}
        for group in (*self.terms.values(), *self.synonyms, *self.hierarchy):
            seen.update(dict.fromkeys(group))
        return list(seen)


@cache
def regions(directory: Path | None = None) -> tuple[RegionRow, ...]:
    path = (directory or seeds_dir()) / "regions.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(
            RegionRow(row["code"], row["name"], row["level"], row["parent_code"] or None)
            for row in csv.DictReader(handle)
        )


@cache
def fields(directory: Path | None = None) -> tuple[FieldVocabulary, ...]:
    folder = (directory or seeds_dir()) / "fields"
    result = []
    for path in sorted(folder.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        terms = dict(data["terms"])
        # Alternative wordings may sit inside [terms] or at the top level of the file.
        synonyms = terms.pop("synonyms", data.get("synonyms", ()))
        hierarchy = terms.pop("hierarchy", data.get("hierarchy", ()))
        subjects = terms.pop("subjects", ())
        result.append(
            FieldVocabulary(
                code=data["code"],
                name=data["name"],
                industries=tuple(data.get("industries", ())),
                terms={kind: tuple(items) for kind, items in terms.items()},
                synonyms=tuple(tuple(group) for group in synonyms),
                hierarchy=tuple(tuple(group) for group in hierarchy),
                patterns={kind: tuple(items) for kind, items in data["patterns"].items()},
                subjects=tuple(dict(subject) for subject in subjects),
            )
        )
    return tuple(result)


@cache
def organisations(directory: Path | None = None) -> dict:
    return tomllib.loads(((directory or seeds_dir()) / "organisations.toml").read_text(encoding="utf-8"))
