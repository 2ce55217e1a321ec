"""Reading NLU data in Rasa's YAML format (version 3.1): intents with annotated examples, regexes,
lookup tables and synonyms. The same reader serves training files and the held-out test file."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# [text](entity), [text](entity:value) or [text]{"entity": "...", "value": "..."}
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")


class TrainingDataError(ValueError):
    """A data file is not valid Rasa NLU YAML; the message names the file and the problem."""


@dataclass(frozen=True)
class EntityAnnotation:
    entity: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: tuple[EntityAnnotation, ...] = ()


@dataclass
class TrainingData:
    examples: list[Example] = field(default_factory=list)
    regexes: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)  # what people write -> canonical value

    @property
    def intents(self) -> list[str]:
        return sorted({example.intent for example in self.examples})

    def merge(self, other: TrainingData) -> None:
        self.examples.extend(other.examples)
        for name, patterns in other.regexes.items():
            self.regexes.setdefault(name, []).extend(patterns)
        for name, items in other.lookups.items():
            self.lookups.setdefault(name, []).extend(items)
        self.synonyms.update(other.synonyms)


def parse_annotated(line: str) -> tuple[str, tuple[EntityAnnotation, ...]]:
    """Plain text and entity spans of one example line; spans index the plain text."""
    parts: list[str] = []
    entities: list[EntityAnnotation] = []
    position = 0
    length = 0
    for match in _ANNOTATION.finditer(line):
        before = line[position : match.start()]
        parts.append(before)
        length += len(before)
        surface = match.group("text")
        if match.group("json"):
            spec = json.loads(match.group("json"))
            name, value = str(spec["entity"]), str(spec.get("value", surface))
        else:
            name, _, value = match.group("short").partition(":")
            value = value or surface
        entities.append(EntityAnnotation(name, value, length, length + len(surface)))
        parts.append(surface)
        length += len(surface)
        position = match.end()
    parts.append(line[position:])
    return "".join(parts), tuple(entities)


def _items(block: str) -> list[str]:
    return [line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")]


def load_file(path: Path) -> TrainingData:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise TrainingDataError(f"{path}: not valid YAML ({error})") from None
    data = TrainingData()
    for entry in document.get("nlu") or []:
        block = entry.get("examples")
        if not isinstance(block, str):
            raise TrainingDataError(f"{path}: every entry needs an `examples: |` block ({entry})")
        if "intent" in entry:
            for line in _items(block):
                text, entities = parse_annotated(line)
                data.examples.append(Example(text, str(entry["intent"]), entities))
        elif "regex" in entry:
            data.regexes.setdefault(str(entry["regex"]), []).extend(_items(block))
        elif "lookup" in entry:
            data.lookups.setdefault(str(entry["lookup"]), []).extend(_items(block))
        elif "synonym" in entry:
            for variant in _items(block):
                data.synonyms[variant] = str(entry["synonym"])
        else:
            raise TrainingDataError(f"{path}: unknown entry {sorted(entry)}")
    for example in data.examples:
        for annotation in example.entities:
            if annotation.value != example.text[annotation.start : annotation.end]:
                data.synonyms.setdefault(example.text[annotation.start : annotation.end], annotation.value)
    return data


def load_training_data(paths: Iterable[Path]) -> TrainingData:
    """All data of the given files and directories (their *.yml / *.yaml files, in name order)."""
    data = TrainingData()
    for path in paths:
        files = sorted([*path.glob("*.yml"), *path.glob("*.yaml")]) if path.is_dir() else [path]
        for file in files:
            data.merge(load_file(file))
    return data
