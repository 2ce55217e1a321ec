"""Scoring the NLU as `rasa test nlu` does: intent_report.json (precision, recall, f1-score, support,
confused_with per intent), intent_errors.json, an entity report, and k-fold cross-validation."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import classification_report, f1_score, precision_score
from sklearn.model_selection import StratifiedKFold

from nlu.engine import EmbeddedInterpreter, train_examples
from nlu.features import Tokenizer, read_dictionary
from nlu.pipeline import PipelineConfig
from nlu.trainingdata import Example, TrainingData

MAX_CONFUSED = 2  # as Rasa: the two labels an intent is most often mistaken for


@dataclass
class Evaluation:
    texts: list[str] = field(default_factory=list)
    truth: list[str] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)
    entity_truth: list[set[tuple[str, str, int, int]]] = field(default_factory=list)
    entity_found: list[set[tuple[str, str, int, int]]] = field(default_factory=list)

    def extend(self, other: Evaluation) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).extend(getattr(other, name))

    @property
    def accuracy(self) -> float:
        return sum(t == p for t, p in zip(self.truth, self.predicted, strict=True)) / max(len(self.truth), 1)

    @property
    def macro_f1(self) -> float:
        labels = sorted(set(self.truth))
        return float(f1_score(self.truth, self.predicted, labels=labels, average="macro", zero_division=0))

    @property
    def macro_precision(self) -> float:
        labels = sorted(set(self.truth))
        return float(
            precision_score(self.truth, self.predicted, labels=labels, average="macro", zero_division=0)
        )

    def intent_report(self) -> dict[str, Any]:
        """Rasa's intent_report.json: sklearn's report plus `confused_with` per intent."""
        report: dict[str, Any] = classification_report(
            self.truth, self.predicted, output_dict=True, zero_division=0
        )
        mistakes: dict[str, Counter[str]] = {}
        for truth, predicted in zip(self.truth, self.predicted, strict=True):
            if truth != predicted:
                mistakes.setdefault(truth, Counter())[predicted] += 1
        for label, scores in report.items():
            if isinstance(scores, dict) and label not in ("macro avg", "weighted avg", "micro avg"):
                scores["confused_with"] = dict(mistakes.get(label, Counter()).most_common(MAX_CONFUSED))
        report.setdefault("accuracy", self.accuracy)
        return report

    def errors(self) -> list[dict[str, Any]]:
        return [
            {
                "text": text,
                "intent": truth,
                "intent_prediction": {"name": predicted, "confidence": confidence},
            }
            for text, truth, predicted, confidence in zip(
                self.texts, self.truth, self.predicted, self.confidence, strict=True
            )
            if truth != predicted
        ]

    def entity_report(self) -> dict[str, Any]:
        """Per entity: a hit needs the same name, value, start and end."""
        counts: dict[str, Counter[str]] = {}
        for truth, found in zip(self.entity_truth, self.entity_found, strict=True):
            for item in truth | found:
                tally = counts.setdefault(item[0], Counter())
                tally["tp" if item in truth and item in found else ("fn" if item in truth else "fp")] += 1
        report: dict[str, Any] = {}
        for name, tally in sorted(counts.items()):
            precision = tally["tp"] / max(tally["tp"] + tally["fp"], 1)
            recall = tally["tp"] / max(tally["tp"] + tally["fn"], 1)
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            report[name] = {
                "precision": precision,
                "recall": recall,
                "f1-score": f1,
                "support": tally["tp"] + tally["fn"],
            }
        return report


def evaluate(interpreter: EmbeddedInterpreter, examples: Sequence[Example]) -> Evaluation:
    result = Evaluation()
    for example in examples:
        answer = interpreter.parse_sync(example.text)
        result.texts.append(example.text)
        result.truth.append(example.intent)
        result.predicted.append(answer["intent"]["name"])
        result.confidence.append(float(answer["intent"]["confidence"]))
        result.entity_truth.append({(a.entity, a.value, a.start, a.end) for a in example.entities})
        result.entity_found.append(
            {(e["entity"], e["value"], e["start"], e["end"]) for e in answer["entities"]}
        )
    return result


@dataclass
class CrossValidation:
    folds: list[Evaluation]
    pooled: Evaluation

    def summary(self) -> dict[str, tuple[float, float]]:
        """Mean and standard deviation over the folds (test side), as `rasa test nlu --cross-validation`."""
        figures = {
            "accuracy": [fold.accuracy for fold in self.folds],
            "f1-score": [fold.macro_f1 for fold in self.folds],
            "precision": [fold.macro_precision for fold in self.folds],
        }
        return {name: (statistics.fmean(v), statistics.pstdev(v)) for name, v in figures.items()}


def cross_validate(
    data: TrainingData, pipeline: PipelineConfig, folds: int, tokenizer: Tokenizer | None = None
) -> CrossValidation:
    """Stratified k-fold over the training examples; entity patterns come from all the data, as the
    regexes and lookup tables are not learnt from examples."""
    if folds < 2:
        raise ValueError("交叉验证至少要分2折")
    if tokenizer is None and pipeline.word_ngrams:
        tokenizer = Tokenizer.shared(read_dictionary(pipeline.dictionary_path))
    examples = data.examples
    labels = np.array([example.intent for example in examples])
    results: list[Evaluation] = []
    pooled = Evaluation()
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
    for train_index, test_index in splitter.split(np.zeros(len(labels)), labels):
        model = train_examples(
            [examples[i] for i in train_index],
            data,
            pipeline,
            version="cross-validation",
            tokenizer=tokenizer,
        )
        fold = evaluate(model, [examples[i] for i in test_index])
        results.append(fold)
        pooled.extend(fold)
    return CrossValidation(results, pooled)


def write_reports(evaluation: Evaluation, out_dir: Path) -> list[Path]:
    """intent_report.json, intent_errors.json and RegexEntityExtractor_report.json under `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in (
        ("intent_report.json", evaluation.intent_report()),
        ("intent_errors.json", evaluation.errors()),
        ("RegexEntityExtractor_report.json", evaluation.entity_report()),
    ):
        path = out_dir / name
        path.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
