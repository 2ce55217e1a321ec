"""Entities from regexes and lookup tables, with normalised values and spans on the original text.

Rasa's RegexEntityExtractor and EntitySynonymMapper do the matching and the synonym folding; the
checks Rasa cannot express in a regex (ID check digit, phone shape, which six digits are an SMS
code) are applied here so downstream code can trust every value it receives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rules.identity import InvalidIdentity, normalize_phone, parse_id_number, validate_name
from rules.positions import canonical_position

# Full-width digits, letters, plus and minus become ASCII one for one, so offsets stay those of the text.
_ASCII_WIDTH = str.maketrans(
    {
        **{chr(0xFF10 + i): chr(0x30 + i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        "\uff0b": "+",
        "\uff0d": "-",
        "\u3000": " ",
    }
)
_CHINESE_DIGITS = str.maketrans("零〇一二三四五六七八九", "00123456789")
_CODE_CONTEXT = re.compile(r"验证码|校验码|短信|动态码|(?<!号)码")
_CERTIFICATE_CONTEXT = re.compile(r"证书|(?<!身份)证号|编号")
_BARE_POSITIONS = {"施工员", "质量员"}  # the sub-specialty is asked for later
# Earlier wins when two matches of the same length overlap.
_PRIORITY = ("id_number", "phone", "position", "certificate_number", "sms_code", "year", "person_name")
_AMBIGUOUS = frozenset({"certificate_number", "sms_code"})


def widen_to_ascii(text: str) -> str:
    """`text` with full-width digits and letters replaced by ASCII; same length, same offsets."""
    return text.translate(_ASCII_WIDTH)


@dataclass(frozen=True)
class Entity:
    entity: str
    value: str
    start: int
    end: int
    synonym: bool = False

    def as_rasa_dict(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "entity": self.entity,
            "start": self.start,
            "end": self.end,
            "value": self.value,
            "extractor": "RegexEntityExtractor",
        }
        if self.synonym:
            answer["processors"] = ["EntitySynonymMapper"]
        return answer


def _year(raw: str) -> str | None:
    digits = raw.translate(_CHINESE_DIGITS)
    if len(digits) == 2:
        digits = "20" + digits
    return digits if len(digits) == 4 and 1990 <= int(digits) <= 2099 else None


class EntityExtractor:
    """Finds entities by regex and lookup table, as configured in config.yml and nlu/data."""

    def __init__(
        self,
        regexes: dict[str, list[str]],
        lookups: dict[str, list[str]],
        synonyms: dict[str, str],
        *,
        use_regexes: bool = True,
        use_lookup_tables: bool = True,
        use_word_boundaries: bool = False,
        use_synonyms: bool = True,
    ) -> None:
        self.synonyms = synonyms if use_synonyms else {}
        patterns: dict[str, list[str]] = {}
        if use_regexes:
            for name, items in regexes.items():
                patterns.setdefault(name, []).extend(items)
        if use_lookup_tables:
            for name, items in lookups.items():
                ordered = sorted(set(items), key=len, reverse=True)
                patterns.setdefault(name, []).append("|".join(re.escape(item) for item in ordered))
        self.patterns: dict[str, list[re.Pattern[str]]] = {
            name: [re.compile(rf"\b(?:{item})\b" if use_word_boundaries else item) for item in items]
            for name, items in patterns.items()
        }

    def _normalise(self, name: str, raw: str) -> str | None:
        try:
            if name == "id_number":
                return parse_id_number(raw).value
            if name == "phone":
                return normalize_phone(raw)
            if name == "person_name":
                return validate_name(raw)
        except InvalidIdentity:
            return None
        if name == "year":
            return _year(raw)
        if name == "position":
            folded = self.synonyms.get(raw) or canonical_position(raw)
            if folded is None and raw.replace(" ", "") in _BARE_POSITIONS:
                folded = raw.replace(" ", "")
            return folded
        if name in ("certificate_number", "sms_code"):
            return raw.replace(" ", "")
        return self.synonyms.get(raw, raw)

    def _candidates(self, text: str) -> Iterable[tuple[str, int, int]]:
        for name, compiled in self.patterns.items():
            for pattern in compiled:
                for match in pattern.finditer(text):
                    if match.end() > match.start():
                        yield name, match.start(), match.end()

    def extract(self, text: str) -> list[Entity]:
        """Non-overlapping entities of `text`, longest first; a bare six-digit number is offered as
        both sms_code and certificate_number unless the words around it say which one it is."""
        ascii_text = widen_to_ascii(text)
        found: list[Entity] = []
        blocked: list[tuple[int, int]] = []  # spans shaped like an ID number whose check digit is wrong
        order = {name: rank for rank, name in enumerate(_PRIORITY)}
        candidates = sorted(
            set(self._candidates(ascii_text)),
            key=lambda c: (c[1] - c[2], order.get(c[0], len(order)), c[1]),
        )
        for name, start, end in candidates:
            raw = ascii_text[start:end]
            value = self._normalise(name, raw)
            if value is None:
                if name == "id_number":
                    blocked.append((start, end))
                continue
            if any(start < b_end and b_start < end for b_start, b_end in blocked):
                continue
            clash = [e for e in found if start < e.end and e.start < end]
            same_span_pair = all(
                (e.start, e.end) == (start, end) and {e.entity, name} == _AMBIGUOUS for e in clash
            )
            if clash and not same_span_pair:
                continue
            synonym = name == "position" and value != raw
            found.append(Entity(name, value, start, end, synonym))
        return sorted(self._resolve_six_digits(text, found), key=lambda e: (e.start, e.entity))

    @staticmethod
    def _resolve_six_digits(text: str, found: list[Entity]) -> list[Entity]:
        code = bool(_CODE_CONTEXT.search(text))
        certificate = bool(_CERTIFICATE_CONTEXT.search(text))
        if code == certificate:
            return found
        drop = "certificate_number" if code else "sms_code"
        spans = {(e.start, e.end) for e in found if e.entity == "sms_code"}
        return [e for e in found if not (e.entity == drop and (e.start, e.end) in spans)]
