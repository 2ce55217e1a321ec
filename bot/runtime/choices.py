"""Typed answers to offered buttons. Workers type on old phones and rarely scroll back to the
buttons, so whatever step offered buttons, a typed answer that names one of them — its number, a
part of its title, a value its payload carries, 第一个/这个/就它, 今年/26年 for a year, 确认/行/妥了 for
the button that confirms a choice carried in its payload (or for the only thing offered: 现在开始考核吗？
行) — is taken as that button's payload, before
the NLU has its say. Any other typed yes or no to a question with buttons is an affirm or deny
(the step's rules answer those), whatever the NLU makes of 中 or 妥了."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from bot.runtime.tracker import DialogueTracker
from bot.runtime.understanding import parse_payload


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


YES = _words("确认 确定 是 是的 对 对的 对呀 对啊 行 行吧 行啊 好 好的 好吧 好嘞 中 中中 妥 妥了")
YES |= _words("可以 没问题 嗯 嗯嗯 ok 提交 同意")
NO = _words("不 不要 不用 不行 不对 不是 否 别 不了 先不 不用了 不要了 不提交 不同意 错 错的")
# Words around the answer that name nothing: 机械员那个, 就它吧, 选b, B选项.
FILLER = re.compile(
    r"^(我要|我选|选择|就要|就选|就|选|要|报|用)|(那个|这个|的|吧|呗|啊|呀|哈|啦|选项|那项|就行|就可以|了)$"
)
DEICTIC = _words("这个 就这个 就它 它 这 那个 就那个 就它了 这个吧 就它吧 就这个吧 这一个 就是它 嗯就它")
ORDINALS = {ch: n for n, ch in enumerate("一二三四五六七八九十", start=1)} | {"两": 2}
NUMBERED = re.compile(r"^(?:第|选)?(?P<n>\d{1,2}|[一二两三四五六七八九十])(?:个|项|号|条)?$")
YEAR = re.compile(r"(?<!\d)(?P<y>(?:20)?\d{2})(?:年度?|年的)?(?!\d)")
RELATIVE_YEARS = {"今年": 0, "本年": 0, "当年": 0, "去年": -1, "上一年": -1, "上年": -1}
CANCEL_TITLES = ("取消", "不用", "算了", "返回")
LEAVING = frozenset({"send_photo", "cancel", "human_handoff"})  # a photo, or a way out, is never a choice


def normalize(text: str) -> str:
    """Full-width forms to half-width, case folded, spaces and punctuation gone."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if not (ch.isspace() or unicodedata.category(ch).startswith("P")))


def _strip_filler(text: str) -> str:
    for _ in range(4):
        stripped = FILLER.sub("", text)
        if stripped == text or not stripped:
            break
        text = stripped
    return text


STUCK = "utter_stuck"  # said after a step asked again; the step's question stays the one answered


def _last_question(tracker: DialogueTracker) -> dict[str, Any] | None:
    """The assistant's last message before the latest user message."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif (
            seen_user
            and event.get("event") == "bot"
            and (event.get("metadata") or {}).get("utter_action") != STUCK
        ):
            return event
    return None


def last_question_text(tracker: DialogueTracker) -> str | None:
    event = _last_question(tracker)
    return str(event.get("text")) if event and event.get("text") else None


def offered_buttons(tracker: DialogueTracker) -> list[dict[str, Any]]:
    """The buttons of the assistant's last message before the latest user message, if it had any."""
    event = _last_question(tracker) or {}
    buttons = (event.get("data") or {}).get("buttons") or []
    return [b for b in buttons if isinstance(b, dict) and isinstance(b.get("payload"), str)]


def pending_step(tracker: DialogueTracker) -> dict[str, Any] | None:
    """The last message again when it was a step of a flow (its buttons carry what was chosen so
    far): a question asked in between is answered, then the step is asked again with its buttons."""
    event = _last_question(tracker)
    if event is None or not any("{" in b["payload"] for b in offered_buttons(tracker)):
        return None
    return {"text": event.get("text"), **(event.get("data") or {})}


def _values(payload: str, intents: frozenset[str]) -> tuple[str | None, dict[str, str]]:
    parsed = parse_payload(payload, intents)
    if parsed is None:
        return None, {}
    return parsed["intent"]["name"], {e["entity"]: e["value"] for e in parsed["entities"]}


def _confirms(values: dict[str, str]) -> bool:
    return values.get("answer") == "confirm"


def _cancels(button: dict[str, Any], intent: str | None) -> bool:
    return intent in ("cancel", "deny") or any(w in str(button.get("title")) for w in CANCEL_TITLES)


def _year(text: str, this_year: int) -> int | None:
    for word, offset in RELATIVE_YEARS.items():
        if word in text:
            return this_year + offset
    found = YEAR.search(text)
    if found is None or not ("年" in text or len(found.group("y")) == 4):
        return None
    year = int(found.group("y"))
    return year + 2000 if year < 100 else year


def _one(candidates: list[int]) -> int | None:
    unique = sorted(set(candidates))
    return unique[0] if len(unique) == 1 else None


def _common_chars(a: str, b: str) -> int:
    """Length of the longest common subsequence: 机戒员 and 机械员 share 机员."""
    row = [0] * (len(b) + 1)
    for ch in a:
        previous = 0
        for j, other in enumerate(b, start=1):
            current = row[j]
            row[j] = previous + 1 if ch == other else max(row[j], row[j - 1])
            previous = current
    return row[-1]


def match(text: str, buttons: list[dict[str, Any]], intents: frozenset[str], this_year: int) -> int | None:
    """The index of the button a typed answer names, or None when it names none (or several)."""
    said = normalize(text)
    if not said or not buttons:
        return None
    parsed = [_values(b["payload"], intents) for b in buttons]
    titles = [normalize(str(b.get("title") or "")) for b in buttons]
    core = _strip_filler(said)
    if said in YES or core in YES:  # the button that confirms, or the one thing offered
        confirming = [i for i, (_, v) in enumerate(parsed) if _confirms(v)]
        offered = [i for i, (b, (n, _)) in enumerate(zip(buttons, parsed, strict=True)) if not _cancels(b, n)]
        return _one(confirming) if confirming else (offered[0] if len(offered) == 1 else None)
    if said in NO or core in NO:
        return None
    if said in DEICTIC or core in DEICTIC:
        return _one(
            [i for i, (b, (n, _)) in enumerate(zip(buttons, parsed, strict=True)) if not _cancels(b, n)]
        )
    if said in titles:
        return titles.index(said)
    numbered = NUMBERED.match(core)
    if numbered:
        raw = numbered.group("n")
        number = int(raw) if raw.isdigit() else ORDINALS[raw]
        if 1 <= number <= len(buttons):
            return number - 1
    year = _year(said, this_year)
    if year is not None:
        by_year = [
            i
            for i, ((_, v), t) in enumerate(zip(parsed, titles, strict=True))
            if v.get("year") == str(year) or f"{year}年" in t
        ]
        if by_year:
            return _one(by_year)
    # A value that tells this button from the others (a certificate number, a package code).
    distinct = [
        i
        for i, (_, values) in enumerate(parsed)
        for name, value in values.items()
        if len(value) >= 2
        and normalize(value) in said
        and sum(other.get(name) == value for _, other in parsed) == 1
    ]
    if (found := _one(distinct)) is not None:
        return found
    if len(core) >= 2:
        if (found := _one([i for i, t in enumerate(titles) if core in t])) is not None:
            return found
        heads = [re.split(r"[(（]", t)[0] for t in titles]
        if (found := _one([i for i, h in enumerate(heads) if len(h) >= 3 and h in said])) is not None:
            return found
    if 2 <= len(core) <= 5:  # a typo: most of the characters, in order, of exactly one title
        scores = [_common_chars(core, t) for t in titles]
        best = max(scores)
        if best * 3 >= len(core) * 2 and scores.count(best) == 1:
            return scores.index(best)
    return None


def typed_choice(tracker: DialogueTracker, intents: frozenset[str], this_year: int) -> dict[str, Any] | None:
    """The parse of the latest (typed) message as the button it names, or as a plain yes or no."""
    text = str(tracker.latest_message.get("text") or "")
    if not text.strip() or text.strip().startswith("/") or tracker.intent in LEAVING:
        return None
    buttons = offered_buttons(tracker)
    if not buttons:
        return None
    index = match(text, buttons, intents, this_year)
    if index is not None:
        chosen = parse_payload(buttons[index]["payload"], intents)
        if chosen is not None:
            return {**chosen, "text": text}
    said = normalize(text)
    core = _strip_filler(said)
    for words, intent in ((YES, "affirm"), (NO, "deny")):
        if (said in words or core in words) and intent in intents:
            ranking = [{"name": intent, "confidence": 1.0}]
            return {"text": text, "intent": ranking[0], "entities": [], "intent_ranking": ranking}
    return None


def take_choice(tracker: DialogueTracker, parse_data: dict[str, Any]) -> None:
    """Reads the latest user message as `parse_data`, in the stored history as well."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            event["parse_data"] = parse_data
            break
    tracker.latest_message.update(
        intent=parse_data["intent"],
        entities=parse_data["entities"],
        intent_ranking=parse_data["intent_ranking"],
    )
