"""What a trainee's message is taken to mean: intents on questions the model never saw, fallback."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from nlu.evaluation import evaluate
from nlu.pipeline import DEFAULT_DATA, load_pipeline
from nlu.trainingdata import load_training_data
from tests.nlu.conftest import Trained

HELD_OUT = Path(__file__).with_name("heldout_nlu.yml")
CONTRACT_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "register", "account_help",
    "photo_requirements", "upload_photo", "certificate_status", "enroll_course", "training_cycle",
    "multi_certificate", "learning_progress", "learning_rules", "start_learning", "training_proof",
    "renew_certificate", "human_handoff", "contact_support", "cheating_inquiry", "inform", "out_of_scope",
}  # fmt: skip
# Intents the assistant's domain added after the contract: the menu, linking an existing account, the
# test, and leaving a form (取消, 退出, 不办了), which a Rasa server understands only from examples.
ASSISTANT_INTENTS = {"menu", "bind_account", "start_assessment", "cancel"}
# What the chat does beyond the contract: the password and personal details, and the yearly hours rule.
ASSISTANT_INTENTS |= {"change_password", "update_profile", "faq_hours"}
# Going on in Telegram with a one-time link (/start <code> there is a payload, never typed).
ASSISTANT_INTENTS |= {"telegram_link"}
INTENTS = CONTRACT_INTENTS | ASSISTANT_INTENTS


def test_held_out_questions_are_understood(trained: Trained) -> None:
    result = evaluate(trained.interpreter, load_training_data([HELD_OUT]).examples)
    assert set(result.truth) == INTENTS
    assert result.accuracy >= 0.95, result.errors()
    assert result.macro_f1 >= 0.95, result.errors()


def test_training_data_covers_every_intent_richly_and_never_the_held_out_questions() -> None:
    training = load_training_data([DEFAULT_DATA])
    counts = Counter(example.intent for example in training.examples)
    assert set(counts) == INTENTS
    assert min(counts.values()) >= 40, counts
    held_out = {example.text for example in load_training_data([HELD_OUT]).examples}
    assert not held_out & {example.text for example in training.examples}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("密码忘了咋整啊", "account_help"),
        ("照片整不明白 啥要求", "photo_requirements"),
        ("我证书咋是非正常", "certificate_status"),
        ("能找人替我刷课不", "cheating_inquiry"),
        ("转人工", "human_handoff"),
        ("客服电话多少", "contact_support"),
        ("妥了 谢谢啊", "thank"),
        ("我是土建施工员", "inform"),
        ("考核", "start_assessment"),
        ("我要考试", "start_assessment"),
        ("开始考核", "start_assessment"),
        ("学时证明在哪打", "training_proof"),
        ("绑定账号", "bind_account"),
        ("我要注册", "register"),
        ("还能干啥", "menu"),
        ("主菜单", "menu"),
    ],
)
async def test_colloquial_questions(trained: Trained, text: str, intent: str) -> None:
    answer = await trained.interpreter.parse(text)
    assert answer["intent"]["name"] == intent


@pytest.mark.parametrize("text", ["zzzz", "？？？", "qwpoe xmvn", "😀😀😀", "[贴纸]", "[图片]"])
async def test_nonsense_falls_back(trained: Trained, text: str) -> None:
    answer = await trained.interpreter.parse(text)
    assert answer["intent"] == {"name": "nlu_fallback", "confidence": load_pipeline().fallback_threshold}
    assert answer["intent_ranking"][0]["name"] == "nlu_fallback"


async def test_answer_has_the_rasa_parse_shape(trained: Trained) -> None:
    answer = await trained.interpreter.parse("我要报名继续教育")
    assert set(answer) == {"text", "intent", "entities", "intent_ranking"}
    assert answer["text"] == "我要报名继续教育"
    assert answer["intent"]["name"] == "enroll_course"
    ranking = answer["intent_ranking"]
    assert ranking[0] == answer["intent"]
    assert len(ranking) == 10
    confidences = [item["confidence"] for item in ranking]
    assert confidences == sorted(confidences, reverse=True)
    # Probabilities over every intent: the top ten are each in [0, 1] and cannot add up past 1.
    assert all(0.0 <= confidence <= 1.0 for confidence in confidences)
    assert sum(confidences) <= 1.0 + 1e-9
