"""Policy scenarios: TOML files of levers layered over the baseline; every default names its source."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

BUILTIN = Path(__file__).parent / "scenarios"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    levers: dict  # sections market / brokers / negotiation / policy, fully merged over the baseline
    source: str = ""

    def get(self, section: str, key: str):
        try:
            return self.levers[section][key]
        except KeyError:
            raise KeyError(f"scenario {self.name!r} has no lever {section}.{key}") from None


def builtin_names() -> list[str]:
    return sorted(path.stem for path in BUILTIN.glob("*.toml"))


def load_scenario(name_or_path: str) -> Scenario:
    """A built-in scenario by name, or a TOML file; a file with `base = "…"` overrides that scenario's levers."""
    path = Path(name_or_path)
    if not path.suffix:
        path = BUILTIN / f"{name_or_path}.toml"
        if not path.exists():
            raise ValueError(f"unknown scenario {name_or_path!r}; built-in: {', '.join(builtin_names())}")
    elif not path.exists():
        raise ValueError(f"scenario file {path} not found")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    levers = {key: value for key, value in data.items() if isinstance(value, dict)}
    base_name = data.get("base")
    if base_name:
        base = load_scenario(base_name)
        levers = _merge(base.levers, levers, context=str(path))
    return Scenario(name=data.get("name", path.stem), description=data.get("description", ""), levers=levers,
                    source=str(path))


def _merge(base: dict, override: dict, *, context: str) -> dict:
    merged = {section: dict(values) for section, values in base.items()}
    for section, values in override.items():
        if section not in merged:
            raise ValueError(f"{context}: unknown section [{section}] (known: {', '.join(sorted(merged))})")
        for key, value in values.items():
            if key not in merged[section]:
                raise ValueError(f"{context}: unknown lever {section}.{key}")
            merged[section][key] = value
    return merged


@dataclass
class Overrides:
    """Levers set from code, e.g. by calibration; same shape as a scenario file."""

    values: dict = field(default_factory=dict)

    def apply(self, scenario: Scenario) -> Scenario:
        return Scenario(scenario.name, scenario.description, _merge(scenario.levers, self.values, context="overrides"),
                        scenario.source)
