"""domain.yml, read once: intents, slots and their mappings, forms, responses, session settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DOMAIN_FILE = Path(__file__).resolve().parents[2] / "domain.yml"
REQUESTED_SLOT = "requested_slot"
# libyaml's safe loader when PyYAML has it: the same data about ten times faster than the pure-Python
# one, and every assistant app reads domain.yml and the rules again (a test builds one per test).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Domain:
    """The parts of a Rasa domain the runtime acts on; `as_dict` is what actions receive."""

    raw: dict[str, Any]
    intents: frozenset[str]
    slots: dict[str, dict[str, Any]]
    forms: dict[str, list[str]]
    responses: dict[str, list[dict[str, Any]]]
    actions: frozenset[str]
    session_expiration_minutes: float
    carry_over_slots: bool
    entities: frozenset[str] = field(default_factory=frozenset)

    def as_dict(self) -> dict[str, Any]:
        return self.raw

    def initial_slots(self) -> dict[str, Any]:
        values: dict[str, Any] = {name: spec.get("initial_value") for name, spec in self.slots.items()}
        values[REQUESTED_SLOT] = None
        return values

    def is_form(self, name: str) -> bool:
        return name in self.forms


def _intent_name(entry: Any) -> str:
    return next(iter(entry)) if isinstance(entry, dict) else str(entry)


def load_domain(path: Path = DOMAIN_FILE) -> Domain:
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}  # noqa: S506 (safe)
    forms = {
        name: list((spec or {}).get("required_slots", [])) for name, spec in (raw.get("forms") or {}).items()
    }
    session = raw.get("session_config") or {}
    raw.setdefault("forms", {})
    raw["slots"] = raw.get("slots") or {}
    raw["slots"].setdefault(REQUESTED_SLOT, {"type": "any", "influence_conversation": False, "mappings": []})
    return Domain(
        raw=raw,
        intents=frozenset(_intent_name(entry) for entry in raw.get("intents") or []),
        slots={name: spec or {} for name, spec in raw["slots"].items()},
        forms=forms,
        responses=raw.get("responses") or {},
        actions=frozenset(raw.get("actions") or []),
        session_expiration_minutes=float(session.get("session_expiration_time", 60)),
        carry_over_slots=bool(session.get("carry_over_slots_to_new_session", True)),
        entities=frozenset(_intent_name(entry) for entry in raw.get("entities") or []),
    )
