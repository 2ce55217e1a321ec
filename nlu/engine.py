"""The embedded NLU engine: training from Rasa data and config.yml, parsing, and the model artifact.

The artifact is one `.npz` file (arrays plus a JSON header, no pickles), named by the model version,
a hash of the training data, config.yml, the jieba dictionary and the engine code. Parsing replays
the features and a linear model in pure numpy, well under a millisecond per message.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from nlu.entities import Entity, EntityExtractor
from nlu.features import (
    TfidfSpace,
    Tokenizer,
    char_grams,
    clean,
    mask_entities,
    read_dictionary,
    word_grams,
)
from nlu.pipeline import DEFAULT_CONFIG, DEFAULT_DATA, PipelineConfig, load_pipeline
from nlu.trainingdata import Example, TrainingData, load_training_data

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

FORMAT = "jianpei-nlu/1"
NAME_HINT = "name_shape"  # a regex of the data: a message, or its first word, shaped like a name
NAME_ENTITY = "person_name"
FALLBACK_INTENT = "nlu_fallback"
RANKING_LENGTH = 10
DEFAULT_C = 10.0


_ENGINE_SOURCES = ("engine.py", "entities.py", "features.py", "trainingdata.py")


def model_version(config_path: Path = DEFAULT_CONFIG, data_paths: Sequence[Path] = (DEFAULT_DATA,)) -> str:
    """The version a model trained now would have: a hash of everything that shapes it (data,
    config.yml, the jieba dictionary and the engine's own code, so a changed engine never reads a
    model made by an older one)."""
    pipeline = load_pipeline(config_path)
    digest = hashlib.sha256(FORMAT.encode())
    files: list[Path] = [config_path, *(Path(__file__).with_name(name) for name in _ENGINE_SOURCES)]
    for path in data_paths:
        files.extend(sorted([*path.glob("*.yml"), *path.glob("*.yaml")]) if path.is_dir() else [path])
    if pipeline.dictionary_path is not None and pipeline.dictionary_path.is_dir():
        files.extend(sorted(pipeline.dictionary_path.glob("*.txt")))
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def artifact_path(models_dir: Path, version: str) -> Path:
    return models_dir / f"nlu-{version}.npz"


@dataclass
class Featurizer:
    """Regex hints, entity masking, character and word n-grams; one TF-IDF block per kind."""

    pipeline: PipelineConfig
    tokenizer: Tokenizer | None  # only when a word featurizer is configured
    extractor: EntityExtractor
    hint_patterns: dict[str, list[re.Pattern[str]]]
    char_space: TfidfSpace | None = None
    word_space: TfidfSpace | None = None

    def tokens(self, text: str, entities: Sequence[Entity]) -> tuple[list[str], list[str]]:
        masked = clean(mask_entities(text, entities))
        chars = char_grams(masked, *self.pipeline.char_ngrams) if self.pipeline.char_ngrams else []
        words: list[str] = []
        if self.pipeline.word_ngrams and self.tokenizer is not None:
            words = word_grams(self.tokenizer.words(masked), *self.pipeline.word_ngrams)
        if self.pipeline.regex_features:
            (words if self.pipeline.word_ngrams else chars).extend(
                f"regex:{name}"
                for name, patterns in self.hint_patterns.items()
                if any(pattern.search(text) for pattern in patterns)
            )
        return chars, words

    def fit(self, documents: Sequence[tuple[list[str], list[str]]]) -> None:
        if self.pipeline.char_ngrams:
            self.char_space = TfidfSpace.fit([chars for chars, _ in documents])
        if self.pipeline.word_ngrams:
            self.word_space = TfidfSpace.fit([words for _, words in documents])

    def matrix(self, documents: Sequence[tuple[list[str], list[str]]]) -> sparse.csr_matrix:
        blocks = []
        if self.char_space is not None:
            blocks.append(self.char_space.matrix([chars for chars, _ in documents]))
        if self.word_space is not None:
            blocks.append(self.word_space.matrix([words for _, words in documents]))
        return sparse.hstack(blocks).tocsr()

    def vector(self, document: tuple[list[str], list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Indices and weights of one document in the stacked feature space."""
        indices: list[np.ndarray] = []
        values: list[np.ndarray] = []
        offset = 0
        for space, tokens in ((self.char_space, document[0]), (self.word_space, document[1])):
            if space is None:
                continue
            found, weights = space.weights(tokens)
            indices.append(np.asarray(found, dtype=np.int64) + offset)
            values.append(weights)
            offset += len(space.vocabulary)
        return np.concatenate(indices), np.concatenate(values)


def _hint_patterns(data: TrainingData) -> dict[str, list[re.Pattern[str]]]:
    """Every regex and lookup table is a sentence feature (Rasa's RegexFeaturizer)."""
    return EntityExtractor(data.regexes, data.lookups, {}, use_word_boundaries=False).patterns


class EmbeddedInterpreter:
    """A trained model: `parse` answers like Rasa's /model/parse."""

    def __init__(
        self,
        *,
        version: str,
        trained_at: str,
        pipeline: PipelineConfig,
        data: TrainingData,
        entity_names: Sequence[str],
        featurizer_spaces: tuple[TfidfSpace | None, TfidfSpace | None],
        intents: Sequence[str],
        coef: np.ndarray,
        intercept: np.ndarray,
        dictionary: tuple[str, ...] = (),
        tokenizer: Tokenizer | None = None,
    ) -> None:
        self.version = version
        self.trained_at = trained_at
        self.pipeline = pipeline
        self.data = data
        self.entity_names = list(entity_names)
        self.intents = list(intents)
        self.coef = np.ascontiguousarray(coef.T)  # features x intents: one row gather per feature
        self.intercept = intercept
        self.dictionary = dictionary
        extractor = _entity_extractor(pipeline, data, self.entity_names)
        self.featurizer = Featurizer(
            pipeline,
            tokenizer or (Tokenizer.shared(dictionary) if pipeline.word_ngrams else None),
            extractor,
            _hint_patterns(data),
            *featurizer_spaces,
        )

    # -- parsing ---------------------------------------------------------------------------------
    def entities(self, text: str) -> list[Entity]:
        return self.featurizer.extractor.extract(text)

    def probabilities(self, text: str, entities: Sequence[Entity]) -> np.ndarray | None:
        """Intent probabilities, or None when not one feature of `text` was seen in training."""
        indices, weights = self.featurizer.vector(self.featurizer.tokens(text, entities))
        if not len(indices):
            return None
        scores = self.intercept + weights @ self.coef[indices]
        scores = np.exp(scores - scores.max())
        return np.asarray(scores / scores.sum())

    def parse_sync(self, text: str) -> dict[str, Any]:
        entities = self.entities(text)
        probabilities = self.probabilities(text, entities)
        if probabilities is None:  # nothing known in it (zzzz, ？？): not understood, whatever the prior
            probabilities = np.zeros(len(self.intents))
        order = np.argsort(-probabilities, kind="stable")
        ranking = [
            {"name": self.intents[i], "confidence": float(probabilities[i])} for i in order[:RANKING_LENGTH]
        ]
        intent = dict(ranking[0])
        threshold = self.pipeline.fallback_threshold
        margin = ranking[0]["confidence"] - (ranking[1]["confidence"] if len(ranking) > 1 else 0.0)
        if threshold is not None and (
            ranking[0]["confidence"] <= threshold or margin < self.pipeline.ambiguity_threshold
        ):
            intent = {"name": FALLBACK_INTENT, "confidence": threshold}
            ranking = [intent, *ranking]
        if intent["name"] == "inform":
            entities = self._bare_name(text, entities)
        return {
            "text": text,
            "intent": intent,
            "entities": [entity.as_rasa_dict() for entity in entities],
            "intent_ranking": ranking,
        }

    def _bare_name(self, text: str, entities: list[Entity]) -> list[Entity]:
        """An `inform` that is just a name ("王桂芝", "陈志刚 2201..."): no trigger word to find it by,
        so the name-shaped first word is the person_name."""
        if NAME_ENTITY not in self.entity_names or any(e.entity == NAME_ENTITY for e in entities):
            return entities
        for pattern in self.featurizer.hint_patterns.get(NAME_HINT, []):
            match = pattern.search(text)
            if match and not any(e.start < match.end() and match.start() < e.end for e in entities):
                name = Entity(NAME_ENTITY, match.group(), match.start(), match.end())
                return sorted([*entities, name], key=lambda e: (e.start, e.entity))
        return entities

    async def parse(self, text: str) -> dict[str, Any]:
        return self.parse_sync(text)

    # -- the artifact ----------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write atomically, so a process loading at the same moment never reads half a file."""
        char_space, word_space = self.featurizer.char_space, self.featurizer.word_space
        header = {
            "format": FORMAT,
            "version": self.version,
            "trained_at": self.trained_at,
            "intents": self.intents,
            "entity_names": self.entity_names,
            "pipeline": _pipeline_to_json(self.pipeline),
            "regexes": self.data.regexes,
            "lookups": self.data.lookups,
            "synonyms": self.data.synonyms,
            "dictionary": list(self.dictionary),
            "char_terms": sorted(char_space.vocabulary, key=char_space.vocabulary.__getitem__)
            if char_space
            else None,
            "word_terms": sorted(word_space.vocabulary, key=word_space.vocabulary.__getitem__)
            if word_space
            else None,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            np.savez_compressed(
                handle,
                header=np.array(json.dumps(header, ensure_ascii=False)),
                char_idf=char_space.idf if char_space else np.zeros(0),
                word_idf=word_space.idf if word_space else np.zeros(0),
                coef=self.coef.T,
                intercept=self.intercept,
            )
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path, tokenizer: Tokenizer | None = None) -> EmbeddedInterpreter:
        with np.load(path, allow_pickle=False) as arrays:
            header = json.loads(str(arrays["header"]))
            if header.get("format") != FORMAT:
                raise ValueError(f"{path}: not a {FORMAT} model")

            def space(terms: list[str] | None, idf: np.ndarray) -> TfidfSpace | None:
                return None if terms is None else TfidfSpace({t: i for i, t in enumerate(terms)}, idf)

            data = TrainingData(
                regexes=header["regexes"], lookups=header["lookups"], synonyms=header["synonyms"]
            )
            return cls(
                version=header["version"],
                trained_at=header["trained_at"],
                pipeline=_pipeline_from_json(header["pipeline"]),
                data=data,
                entity_names=header["entity_names"],
                featurizer_spaces=(
                    space(header["char_terms"], arrays["char_idf"]),
                    space(header["word_terms"], arrays["word_idf"]),
                ),
                intents=header["intents"],
                coef=arrays["coef"].astype(np.float64),
                intercept=arrays["intercept"],
                dictionary=tuple(header["dictionary"]),
                tokenizer=tokenizer,
            )


def _pipeline_to_json(pipeline: PipelineConfig) -> dict[str, Any]:
    fields = dict(pipeline.__dict__)
    fields["dictionary_path"] = str(pipeline.dictionary_path) if pipeline.dictionary_path else None
    return fields


def _pipeline_from_json(fields: dict[str, Any]) -> PipelineConfig:
    fields = dict(fields)
    fields["dictionary_path"] = Path(fields["dictionary_path"]) if fields["dictionary_path"] else None
    for key in ("char_ngrams", "word_ngrams"):
        fields[key] = tuple(fields[key]) if fields[key] else None
    return PipelineConfig(**fields)


def _entity_extractor(pipeline: PipelineConfig, data: TrainingData, names: Sequence[str]) -> EntityExtractor:
    """Like Rasa's RegexEntityExtractor: only patterns named after an annotated entity extract."""
    return EntityExtractor(
        {name: items for name, items in data.regexes.items() if name in names},
        {name: items for name, items in data.lookups.items() if name in names},
        data.synonyms,
        use_regexes=pipeline.use_regexes,
        use_lookup_tables=pipeline.use_lookup_tables,
        use_word_boundaries=pipeline.use_word_boundaries,
        use_synonyms=pipeline.synonyms,
    )


def _classifier(pipeline: PipelineConfig) -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression  # training only: parsing needs numpy alone

    options = pipeline.classifier_options
    return LogisticRegression(
        C=float(options.get("C", DEFAULT_C)),
        solver=str(options.get("solver", "lbfgs")),
        max_iter=int(options.get("max_iter", 1000)),
        tol=float(options.get("tol", 1e-4)),
        random_state=options.get("random_state", 42),
        class_weight="balanced",
    )


def train_examples(
    examples: Sequence[Example],
    data: TrainingData,
    pipeline: PipelineConfig,
    *,
    version: str,
    tokenizer: Tokenizer | None = None,
) -> EmbeddedInterpreter:
    """Fit the classifier on `examples`, with entity patterns and synonyms from `data`."""
    intents = sorted({example.intent for example in examples})
    if len(intents) < 2:
        raise ValueError("训练数据至少需要两个意图")
    entity_names = sorted({a.entity for example in data.examples for a in example.entities})
    interpreter = EmbeddedInterpreter(
        version=version,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        pipeline=pipeline,
        data=TrainingData(regexes=data.regexes, lookups=data.lookups, synonyms=data.synonyms),
        entity_names=entity_names,
        featurizer_spaces=(None, None),
        intents=intents,
        coef=np.zeros((len(intents), 0)),
        intercept=np.zeros(len(intents)),
        dictionary=read_dictionary(pipeline.dictionary_path),
        tokenizer=tokenizer,
    )
    featurizer = interpreter.featurizer
    documents = [featurizer.tokens(e.text, featurizer.extractor.extract(e.text)) for e in examples]
    featurizer.fit(documents)
    from threadpoolctl import threadpool_limits

    # One BLAS thread: on a shared machine more threads make this small fit many times slower.
    with threadpool_limits(limits=1):
        classifier = _classifier(pipeline).fit(featurizer.matrix(documents), [e.intent for e in examples])
    interpreter.intents = [str(label) for label in classifier.classes_]
    interpreter.coef = np.ascontiguousarray(classifier.coef_.T)
    interpreter.intercept = classifier.intercept_.astype(np.float64)
    return interpreter


@dataclass(frozen=True)
class TrainingRun:
    interpreter: EmbeddedInterpreter
    path: Path
    seconds: float
    examples: int


def train(
    models_dir: Path,
    *,
    config_path: Path = DEFAULT_CONFIG,
    data_paths: Sequence[Path] = (DEFAULT_DATA,),
    tokenizer: Tokenizer | None = None,
) -> TrainingRun:
    """Train on the data files and write the versioned artifact under `models_dir`."""
    started = time.perf_counter()
    pipeline = load_pipeline(config_path)
    data = load_training_data(data_paths)
    version = model_version(config_path, data_paths)
    interpreter = train_examples(data.examples, data, pipeline, version=version, tokenizer=tokenizer)
    path = artifact_path(models_dir, version)
    interpreter.save(path)
    return TrainingRun(interpreter, path, time.perf_counter() - started, len(data.examples))
