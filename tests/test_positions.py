"""Position names as people write them fold onto the canonical names certificates store."""

import pytest

from rules.positions import Category, canonical_position, category_of


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("施工员(土建)", "施工员（土建）"),
        ("施工员-市政", "施工员（市政）"),
        ("装饰装修质量员", "质量员（装饰装修）"),
        ("机械员", "机械员"),
        (" 钢筋工 ", "钢筋工"),
    ],
)
def test_variants_fold_to_canonical_names(raw: str, canonical: str) -> None:
    assert canonical_position(raw) == canonical


def test_unknown_positions_are_not_guessed() -> None:
    assert canonical_position("机成员") is None
    assert canonical_position("施工员") is None


def test_categories() -> None:
    assert category_of("机械员") is Category.PROFESSIONAL
    assert category_of("建筑电工") is Category.SKILLED
    assert category_of("厨师") is None
