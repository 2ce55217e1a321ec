"""What the embedded runtime decides outside Rasa's formats is in the training files too, so a Rasa
server trained on them behaves the same: leaving words are `cancel` examples, a message nothing
classifies is answered with `utter_default`, a photo is the trigger payload `/send_photo`."""

from __future__ import annotations

import base64

import pytest

from bot.runtime.domain import load_domain
from bot.runtime.understanding import EXIT_WORDS
from nlu import Interpreter
from nlu.pipeline import DEFAULT_DATA
from nlu.trainingdata import load_training_data
from services.context import Backend
from services.registry.demo import load_demo_data
from tests.assistant.conftest import Chat
from tests.assistant.stories import bind_demo_trainee, load_stories, photo, turn_events
from tests.conftest import FakeClock
from tests.rasa_parity import PLAIN_FILE, ROOT, plain_rasa_stories


def test_every_leaving_word_of_the_runtime_is_a_training_example_of_its_intent() -> None:
    examples = {example.text: example.intent for example in load_training_data([DEFAULT_DATA]).examples}
    assert {word: examples.get(word) for word in EXIT_WORDS} == EXIT_WORDS


@pytest.mark.parametrize("text", ["取消", "退出", "算了", "不办了", "我不想注册了", "算了 以后再说吧"])
async def test_the_model_both_engines_train_reads_leaving_words_as_cancel(
    interpreter: Interpreter, text: str
) -> None:
    assert (await interpreter.parse(text))["intent"]["name"] == "cancel"


@pytest.mark.parametrize("text", ["取消", "退出", "我不想注册了"])
async def test_leaving_words_at_the_name_step_leave_the_form_and_store_no_name(
    chat: Chat, backend: Backend, clock: FakeClock, text: str
) -> None:
    await chat.say("/register")
    clock.advance(seconds=5)
    assert "已取消" in await chat.text(text)
    events = await turn_events(backend, chat.conversation_id)
    assert [e["name"] for e in events if e["event"] == "action"][:2] == [
        "action_deactivate_loop",
        "utter_cancelled",
    ]
    assert not [e for e in events if e["event"] == "slot" and e["name"] == "reg_name" and e["value"]]


async def test_a_message_nothing_classifies_is_answered_with_utter_default(chat: Chat) -> None:
    default = load_domain().responses["utter_default"][0]["text"]
    assert await chat.text("zzzz qwpoe") == default


async def test_a_photo_sent_as_the_trigger_payload_reaches_the_photo_form(
    chat: Chat, backend: Backend, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    await bind_demo_trainee(chat.http, backend, chat.conversation_id)
    content = base64.b64encode(photo("ok.jpg")).decode()
    said = await chat.text("/send_photo", attachment={"filename": "me.jpg", "content_base64": content})
    assert "一经上传不可修改" in said
    events = await turn_events(backend, chat.conversation_id)
    assert events[0]["parse_data"]["intent"]["name"] == "send_photo"


async def test_the_trigger_payload_in_a_text_step_is_refused_and_never_stored(
    chat: Chat, backend: Backend, clock: FakeClock
) -> None:
    await chat.say("/register")
    clock.advance(seconds=5)
    content = base64.b64encode(photo("ok.jpg")).decode()
    said = await chat.text("/send_photo", attachment={"filename": "me.jpg", "content_base64": content})
    assert "这一步不需要照片" in said
    events = await turn_events(backend, chat.conversation_id)
    assert not [e for e in events if e["event"] == "slot" and e["name"] == "reg_name"]


def test_the_plain_rasa_subset_beside_the_stories_is_current() -> None:
    """tests/test_conversations_rasa.yml is what `python -m tests.rasa_parity --export` writes now."""
    assert PLAIN_FILE.read_text(encoding="utf-8") == plain_rasa_stories()


def _parity_rows() -> list[tuple[str, str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Rasa parity") :]
    section = section[: section.index("\n## ", 1)]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 3 and cells[0] != "behaviour":
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def test_the_readme_parity_list_names_real_tests_and_agrees_with_the_stories() -> None:
    rows = _parity_rows()
    assert len(rows) >= 30
    stories = {story.name: story for story in load_stories()}
    for behaviour, on_rasa, test in rows:
        if test.startswith("story: "):
            story = stories.get(test.removeprefix("story: "))
            assert story is not None, f"{behaviour}: no story {test!r}"
            assert ("rasa" in story.engines) == on_rasa.startswith("yes"), f"{behaviour}: {on_rasa!r}"
        else:
            path, _, function = test.partition("::")
            assert f"def {function}(" in (ROOT / path).read_text(encoding="utf-8"), f"{behaviour}: {test}"
    listed = {test.removeprefix("story: ") for _, _, test in rows}
    assert {name for name, story in stories.items() if "rasa" not in story.engines} <= listed
