"""Entities come out normalised, checked, and with spans on the text exactly as the trainee typed it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.nlu.conftest import Trained
from tests.people import make_id_number


def entities(trained: Trained, text: str) -> list[tuple[str, str, str]]:
    """(entity, value, the original text under start:end) for each entity found."""
    answer: dict[str, Any] = trained.interpreter.parse_sync(text)
    return [(e["entity"], e["value"], text[e["start"] : e["end"]]) for e in answer["entities"]]


def test_id_number_with_valid_check_digit(trained: Trained) -> None:
    number = make_id_number("19750312")
    assert entities(trained, f"我身份证号是{number}") == [("id_number", number, number)]
    lower_x = "22030119780811746x"
    assert entities(trained, f"身份证{lower_x}") == [("id_number", lower_x.upper(), lower_x)]


def test_id_number_with_wrong_check_digit_is_not_taken_for_anything(trained: Trained) -> None:
    number = make_id_number("19750312")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert entities(trained, f"身份证{wrong}") == []


@pytest.mark.parametrize(
    ("text", "surface"),
    [
        ("手机13904315566", "13904315566"),
        ("电话 139 0431 5566 打这个", "139 0431 5566"),
        ("139-0431-5566", "139-0431-5566"),
        ("手机号１３９０４３１５５６６", "１３９０４３１５５６６"),
    ],
)
def test_phone_is_eleven_digits(trained: Trained, text: str, surface: str) -> None:
    assert entities(trained, text) == [("phone", "13904315566", surface)]


def test_id_number_and_phone_in_one_message(trained: Trained) -> None:
    number = make_id_number("19821120")
    found = entities(trained, f"身份证{number}手机18643102233")
    assert found == [("id_number", number, number), ("phone", "18643102233", "18643102233")]


@pytest.mark.parametrize(
    ("text", "value", "surface"),
    [
        ("我是土建施工员", "施工员（土建）", "土建施工员"),
        ("施工员(市政)", "施工员（市政）", "施工员(市政)"),
        ("质量员-装饰装修", "质量员（装饰装修）", "质量员-装饰装修"),
        ("我是电焊工", "焊工", "电焊工"),
        ("塔吊司机", "塔式起重机司机", "塔吊司机"),
        ("我干瓦工的", "砌筑工", "瓦工"),
        ("俺是安全员", "安全员", "安全员"),
        ("建筑电工", "建筑电工", "建筑电工"),
    ],
)
def test_positions_fold_to_canonical_names(trained: Trained, text: str, value: str, surface: str) -> None:
    assert entities(trained, text) == [("position", value, surface)]


@pytest.mark.parametrize(
    ("text", "value", "surface"),
    [("学2024年的", "2024", "2024"), ("补24年的", "2024", "24"), ("二零二五年", "2025", "二零二五")],
)
def test_year_is_four_digits(trained: Trained, text: str, value: str, surface: str) -> None:
    assert entities(trained, text) == [("year", value, surface)]


def test_six_digits_are_a_code_or_a_certificate_by_the_words_around_them(trained: Trained) -> None:
    assert entities(trained, "验证码是550173") == [("sms_code", "550173", "550173")]
    assert entities(trained, "证书编号221175") == [("certificate_number", "221175", "221175")]
    bare = entities(trained, "221175")
    assert sorted(bare) == [("certificate_number", "221175", "221175"), ("sms_code", "221175", "221175")]


def test_certificate_number_with_authority_prefix(trained: Trained) -> None:
    assert entities(trained, "证号吉建培2023000123") == [
        ("certificate_number", "吉建培2023000123", "吉建培2023000123")
    ]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("我叫王大力", [("person_name", "王大力", "王大力")]),
        ("姓名：张铁山", [("person_name", "张铁山", "张铁山")]),
        ("王桂芝", [("person_name", "王桂芝", "王桂芝")]),
        (
            "我叫李四手机13904315566",
            [("person_name", "李四", "李四"), ("phone", "13904315566", "13904315566")],
        ),
        ("我是安全员", [("position", "安全员", "安全员")]),
    ],
)
def test_names_people_give(trained: Trained, text: str, found: list[tuple[str, str, str]]) -> None:
    assert entities(trained, text) == found


def test_no_entities_in_plain_questions(trained: Trained) -> None:
    assert entities(trained, "学完了咋打印学时证明") == []
