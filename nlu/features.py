"""Text to features: the tokens the classifier sees, and TF-IDF weighting that can be replayed at
parse time from plain arrays (no pickled objects in the model artifact)."""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import jieba
import numpy as np
from scipy import sparse

from nlu.entities import Entity

# Private-use characters stand for a matched entity, one per entity name (Rasa's RegexFeaturizer
# gives the same hint as a feature); the classifier then learns "身份证<id>" rather than digits.
_MASKS = {
    "id_number": "\ue001",
    "phone": "\ue002",
    "certificate_number": "\ue003",
    "position": "\ue004",
    "year": "\ue005",
    "sms_code": "\ue006",
}
_OTHER_MASK = "\ue00f"
jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict" chatter on stderr
_PLACEHOLDER = re.compile(r"\[[^\[\]\d]{1,8}\]")
_NOISE = re.compile(r"[^\w\ue000-\ue0ff]+|_")


def mask_entities(text: str, entities: Sequence[Entity]) -> str:
    """`text` with each entity span replaced by its mask character (one mask per span)."""
    pieces: list[str] = []
    position = 0
    for entity in sorted(entities, key=lambda e: e.start):
        if entity.start < position:
            continue
        pieces.append(text[position : entity.start])
        pieces.append(_MASKS.get(entity.entity, _OTHER_MASK))
        position = entity.end
    pieces.append(text[position:])
    return "".join(pieces)


def clean(text: str) -> str:
    """Lower case, ASCII digits, no punctuation or spaces: 你好，在吗？ and 你好在吗 look alike.
    Chat clients' placeholders ([贴纸], [图片], [微笑]) are not words the trainee typed: dropped."""
    text = _PLACEHOLDER.sub("", unicodedata.normalize("NFKC", text))
    return _NOISE.sub("", text.lower())


def read_dictionary(directory: Path | None) -> tuple[str, ...]:
    """The entries ("word [freq] [tag]") of the jieba user dictionaries in `directory` (Rasa's
    JiebaTokenizer `dictionary_path`); the model keeps them, so it tokenizes alike wherever it runs."""
    if directory is None or not directory.is_dir():
        return ()
    lines = (
        line.strip()
        for file in sorted(directory.glob("*.txt"))
        for line in file.read_text("utf-8").splitlines()
    )
    return tuple(line for line in lines if line and not line.startswith("#"))


class Tokenizer:
    """jieba with the project dictionary, private to this engine (jieba's global state stays untouched)."""

    @staticmethod
    @lru_cache(maxsize=4)
    def shared(entries: tuple[str, ...]) -> Tokenizer:
        """One tokenizer per dictionary for the process: loading jieba's dictionary takes a second."""
        return Tokenizer(entries)

    def __init__(self, entries: tuple[str, ...]) -> None:
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        for entry in entries:
            word, *rest = entry.split()
            frequency = int(rest[0]) if rest and rest[0].isdigit() else None
            tag = rest[-1] if rest and not rest[-1].isdigit() else None
            self._jieba.add_word(word, frequency, tag)

    def words(self, text: str) -> list[str]:
        return [word for word in self._jieba.lcut(text, HMM=True) if word.strip()]


def char_grams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams; longer ones also see the message edges (^ and $), single characters do not."""
    if not text:
        return []
    padded = f"^{text}$"
    grams: list[str] = []
    for n in range(low, high + 1):
        source = text if n == 1 else padded
        grams.extend(source[i : i + n] for i in range(len(source) - n + 1))
    return grams


def word_grams(words: list[str], low: int, high: int) -> list[str]:
    padded = ["^", *words, "$"]
    grams: list[str] = []
    for n in range(low, high + 1):
        sequence = padded if n > 1 else words
        grams.extend(" ".join(sequence[i : i + n]) for i in range(len(sequence) - n + 1))
    return grams


class TfidfSpace:
    """A vocabulary with smoothed IDF, sublinear TF and L2 norm per block (as scikit-learn's
    TfidfVectorizer(sublinear_tf=True)); small enough to store as arrays and replay in microseconds."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray) -> None:
        self.vocabulary = vocabulary
        self.idf = idf

    @classmethod
    def fit(cls, documents: Sequence[list[str]], min_df: int = 1) -> TfidfSpace:
        frequency: Counter[str] = Counter()
        for tokens in documents:
            frequency.update(set(tokens))
        terms = sorted(term for term, count in frequency.items() if count >= min_df)
        count = len(documents)
        idf = np.array([math.log((1 + count) / (1 + frequency[t])) + 1 for t in terms], dtype=np.float64)
        return cls({term: index for index, term in enumerate(terms)}, idf)

    def weights(self, tokens: list[str]) -> tuple[list[int], np.ndarray]:
        counts = Counter(self.vocabulary[t] for t in tokens if t in self.vocabulary)
        if not counts:
            return [], np.zeros(0)
        indices = list(counts)
        values = np.array([1.0 + math.log(counts[i]) for i in indices]) * self.idf[indices]
        return indices, values / np.linalg.norm(values)

    def matrix(self, documents: Sequence[list[str]]) -> sparse.csr_matrix:
        rows, cols, data = [], [], []
        for row, tokens in enumerate(documents):
            indices, values = self.weights(tokens)
            rows.extend([row] * len(indices))
            cols.extend(indices)
            data.extend(values.tolist())
        return sparse.csr_matrix((data, (rows, cols)), shape=(len(documents), len(self.vocabulary)))
