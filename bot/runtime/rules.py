"""Rules in Rasa's YAML format (bot/data/rules.yml): after this intent, run these actions.

Supported, because this assistant uses them: a rule's `condition` on the active loop; steps `intent`
(with optional entities), `action`, `active_loop` and `slot_was_set` after the actions (ignored when
matching); an `action` step before the intent (the rule applies only right after that action).
A rule whose action is a form and whose next step names it as `active_loop` activates the form; a
rule conditioned on a form that starts with that form's action and `active_loop: null` runs when
the form is complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.runtime.domain import SAFE_LOADER

RULES_FILE = Path(__file__).resolve().parents[1] / "data" / "rules.yml"


@dataclass(frozen=True)
class Rule:
    name: str
    intent: str | None  # None: a form-completion rule
    loop_condition: str | None  # None: no form may be active; else that form
    actions: tuple[str, ...]
    activates: str | None
    after_action: str | None = None


def _loop_condition(condition: list[dict[str, Any]] | None) -> str | None:
    for entry in condition or []:
        if "active_loop" in entry:
            return entry["active_loop"]
    return None


def load_rules(path: Path = RULES_FILE) -> list[Rule]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}  # noqa: S506 (safe)
    rules = []
    for spec in data.get("rules") or []:
        steps = spec.get("steps") or []
        has_intent = any("intent" in step for step in steps)
        intent = None
        after_action = None
        actions: list[str] = []
        activates = None
        for step in steps:
            if "intent" in step and intent is None:
                intent = step["intent"]
            elif "action" in step and has_intent and intent is None:
                after_action = step["action"]  # the rule applies right after this action
            elif "action" in step:
                actions.append(step["action"])
            elif step.get("active_loop"):
                activates = step["active_loop"]
        rules.append(
            Rule(
                name=spec.get("rule", "?"),
                intent=intent,
                loop_condition=_loop_condition(spec.get("condition")),
                actions=tuple(actions),
                activates=activates,
                after_action=after_action,
            )
        )
    return rules


@dataclass(frozen=True)
class RuleBook:
    """Looks rules up: by intent outside or inside a form, and by completed form."""

    rules: list[Rule]

    def for_intent(self, intent: str, active_loop: str | None, last_action: str | None = None) -> Rule | None:
        """The rule for `intent`: one that follows `last_action` first, then one for the active form,
        then a general one."""
        for rule in self.rules:
            if rule.intent == intent and rule.after_action is not None and rule.after_action == last_action:
                return rule
        fallback = None
        for rule in self.rules:
            if rule.intent != intent or rule.after_action is not None:
                continue
            if rule.loop_condition == active_loop and active_loop is not None:
                return rule
            if rule.loop_condition is None and active_loop is None:
                return rule
            if rule.loop_condition is None and fallback is None:
                fallback = rule
        return fallback

    def on_completion(self, form: str) -> Rule | None:
        for rule in self.rules:
            if rule.intent is None and rule.loop_condition == form:
                return rule
        return None
