"""The positions and trades of construction-site personnel, and how people write them.

Canonical names are what certificates store; `canonical_position` folds the usual variants
(half-width brackets, 土建施工员, 施工员-土建) onto them.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Category(StrEnum):
    PROFESSIONAL = "专业人员"
    SKILLED = "技能人员"


SUB_SPECIALTIES = ("土建", "市政", "装饰装修", "设备安装")
_WITH_SUB_SPECIALTY = ("施工员", "质量员")

PROFESSIONAL_POSITIONS: tuple[str, ...] = (
    *(f"{base}（{sub}）" for base in _WITH_SUB_SPECIALTY for sub in SUB_SPECIALTIES),
    "安全员",
    "标准员",
    "材料员",
    "机械员",
    "劳务员",
    "资料员",
)

SKILLED_TRADES: tuple[str, ...] = (
    "砌筑工",
    "钢筋工",
    "架子工",
    "模板工",
    "混凝土工",
    "防水工",
    "建筑电工",
    "焊工",
    "抹灰工",
    "油漆工",
    "木工",
    "管道工",
    "起重信号工",
    "塔式起重机司机",
    "施工升降机司机",
)

_VARIANT = re.compile(r"^(施工员|质量员)[\(（\-－_ ]?(土建|市政|装饰装修|设备安装)[\)）]?$")
_PREFIXED = re.compile(r"^(土建|市政|装饰装修|设备安装)(施工员|质量员)$")


def canonical_position(raw: str) -> str | None:
    """The canonical position name for `raw`, or None when it is not a known position or trade."""
    text = raw.strip().replace(" ", "")
    if text in PROFESSIONAL_POSITIONS or text in SKILLED_TRADES:
        return text
    if match := _VARIANT.match(text):
        return f"{match.group(1)}（{match.group(2)}）"
    if match := _PREFIXED.match(text):
        return f"{match.group(2)}（{match.group(1)}）"
    return None


def category_of(position: str) -> Category | None:
    if position in PROFESSIONAL_POSITIONS:
        return Category.PROFESSIONAL
    if position in SKILLED_TRADES:
        return Category.SKILLED
    return None
