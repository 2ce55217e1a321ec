"""The embedded engine's settings, read from the Rasa pipeline in config.yml.

Only the components this project uses are understood; anything else is refused by name, so a config
that would train differently under Rasa never silently trains something else here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config.yml"
DEFAULT_DATA = Path(__file__).resolve().parent / "data"

_IGNORED = {"WhitespaceTokenizer", "LexicalSyntacticFeaturizer"}
_CLASSIFIERS = {"LogisticRegressionClassifier"}


class PipelineError(ValueError):
    """config.yml asks for something the embedded engine cannot build."""


@dataclass(frozen=True)
class PipelineConfig:
    language: str = "zh"
    dictionary_path: Path | None = None
    regex_features: bool = False
    char_ngrams: tuple[int, int] | None = None
    word_ngrams: tuple[int, int] | None = None
    classifier: str = "LogisticRegressionClassifier"
    classifier_options: dict[str, Any] = field(default_factory=dict)
    use_regexes: bool = True
    use_lookup_tables: bool = True
    use_word_boundaries: bool = False
    synonyms: bool = False
    fallback_threshold: float | None = None
    ambiguity_threshold: float = 0.1


def _ngrams(component: dict[str, Any]) -> tuple[int, int]:
    return int(component.get("min_ngram", 1)), int(component.get("max_ngram", 1))


def load_pipeline(path: Path = DEFAULT_CONFIG) -> PipelineConfig:
    """The pipeline of `path`; relative paths in it are taken from the project root."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    settings: dict[str, Any] = {"language": str(document.get("language", "zh"))}
    classifier_seen = False
    for component in document.get("pipeline") or []:
        name = str(component.get("name"))
        if name == "JiebaTokenizer":
            if component.get("dictionary_path"):
                settings["dictionary_path"] = PROJECT_ROOT / str(component["dictionary_path"])
        elif name == "RegexFeaturizer":
            settings["regex_features"] = True
        elif name == "CountVectorsFeaturizer":
            analyzer = str(component.get("analyzer", "word"))
            key = "word_ngrams" if analyzer == "word" else "char_ngrams"
            settings[key] = _ngrams(component)
        elif name in _CLASSIFIERS:
            classifier_seen = True
            settings["classifier"] = name
            settings["classifier_options"] = {k: v for k, v in component.items() if k != "name"}
        elif name == "RegexEntityExtractor":
            settings["use_regexes"] = bool(component.get("use_regexes", True))
            settings["use_lookup_tables"] = bool(component.get("use_lookup_tables", True))
            settings["use_word_boundaries"] = bool(component.get("use_word_boundaries", True))
        elif name == "EntitySynonymMapper":
            settings["synonyms"] = True
        elif name == "FallbackClassifier":
            settings["fallback_threshold"] = float(component.get("threshold", 0.3))
            settings["ambiguity_threshold"] = float(component.get("ambiguity_threshold", 0.1))
        elif name not in _IGNORED:
            raise PipelineError(f"{path}: the embedded engine does not implement {name}")
    if not classifier_seen:
        raise PipelineError(
            f"{path}: the pipeline needs an intent classifier ({', '.join(sorted(_CLASSIFIERS))})"
        )
    if settings.get("char_ngrams") is None and settings.get("word_ngrams") is None:
        raise PipelineError(f"{path}: the pipeline needs a CountVectorsFeaturizer")
    return PipelineConfig(**settings)
