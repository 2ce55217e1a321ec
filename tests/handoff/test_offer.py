"""A person is offered before the trainee asks: when he types his anger, and when one step keeps
failing. Offered, not forced: he takes it with a tap (or by saying 人工) and joins the queue."""

from __future__ import annotations

from tests.assistant.conftest import Chat
from tests.handoff.test_console import Desk, desk

__all__ = ["desk"]

OFFER = "要不要找人工客服帮您"


def _offer(answers: list[dict[str, object]]) -> dict[str, object] | None:
    return next((a for a in answers if OFFER in str(a.get("text") or "")), None)


async def test_an_angry_trainee_is_offered_a_person_and_takes_it_with_a_tap(desk: Desk) -> None:
    chat = Chat(desk.client(), "web-angry")
    offered = _offer(await chat.say("什么破玩意，气死我了！"))
    assert offered is not None and "4009999355" in str(offered["text"])
    buttons = {b["title"]: b["payload"] for b in offered["buttons"]}  # type: ignore[attr-defined]
    assert buttons["找人工客服"] == "/human_handoff"
    assert "您排在第一位" in await chat.text(buttons["找人工客服"])


async def test_calm_words_and_a_question_of_a_form_get_no_offer(desk: Desk) -> None:
    chat = Chat(desk.client(), "web-calm")
    assert _offer(await chat.say("我想查一下我的证书")) is None
    assert "真实姓名" in await chat.text("我要注册")
    in_form = await chat.say("骗子吧这是")
    assert _offer(in_form) is None  # the form's question stays the last word, its step intact


async def test_no_offer_while_staff_already_have_the_chat(desk: Desk) -> None:
    chat = Chat(desk.client(), "web-angry-queued")
    assert "您排在" in await chat.text("转人工")
    answers = await chat.say("气死了，怎么还没人")
    assert _offer(answers) is None
    assert "您排在第一位" in "\n".join(str(a.get("text")) for a in answers)


async def test_a_step_failing_three_times_offers_a_person(desk: Desk) -> None:
    chat = Chat(desk.client(), "web-stuck")
    assert "真实姓名" in await chat.text("我要注册")
    assert "身份证" in await chat.text("张三")
    said = [await chat.text("123456") for _ in range(3)]
    assert "人工" in said[-1] and "4009999355" in said[-1], said
    assert "您排在第一位" in await chat.text("人工")
