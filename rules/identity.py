"""Who a person is: resident ID numbers (GB 11643-1999), mobile numbers, names, and their masking.

Every entry point (API, CSV import, chat) validates through here so one rule holds everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_PHONE_SHAPE = re.compile(r"^1[3-9][0-9]{9}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-]")
_NAME_SHAPE = re.compile(r"^[\u4e00-\u9fff][\u4e00-\u9fff·]{0,18}[\u4e00-\u9fff]$")


def _plain(raw: str) -> str:
    """Full-width digits and letters (as phone keyboards type them) folded to ASCII, so １３９ is 139
    and one phone cannot pass as two."""
    return unicodedata.normalize("NFKC", raw).strip()


class InvalidIdentity(ValueError):
    """A value a person typed is not acceptable; the message is Chinese and says what to fix."""


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: date


def id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def parse_id_number(raw: str, *, today: date | None = None) -> IdNumber:
    """Validate an 18-character resident ID number: shape, a real birth date, and its check character."""
    value = _plain(raw).upper()
    if not _ID_SHAPE.match(value):
        raise InvalidIdentity("身份证号应为18位：前17位是数字，最后一位是数字或X")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdentity("身份证号里的出生日期不存在，请核对第7到14位") from None
    if birth.year < 1900 or birth > (today or date.today()):
        raise InvalidIdentity("身份证号里的出生日期不对，请核对第7到14位")
    if id_check_char(value[:17]) != value[17]:
        raise InvalidIdentity("身份证号校验位不对，可能有一位输错了，请对照身份证再输一遍")
    return IdNumber(value=value, birth_date=birth)


def normalize_phone(raw: str) -> str:
    """Eleven digits of a mainland mobile number; spaces and dashes in the input are dropped."""
    digits = _PHONE_SEPARATORS.sub("", _plain(raw))
    if digits.startswith("+86"):
        digits = digits[3:]
    if not _PHONE_SHAPE.match(digits):
        raise InvalidIdentity("手机号应为11位、以1开头的手机号码，请重新输入")
    return digits


def validate_name(raw: str) -> str:
    """A real name in Chinese characters (a middle dot allowed between parts, as in 阿依古丽·买买提)."""
    name = raw.strip().replace("•", "·").replace("．", "·")
    if not _NAME_SHAPE.match(name):
        raise InvalidIdentity("姓名请填写身份证上的真实姓名（2到20个汉字）")
    return name


def mask_id_number(value: str) -> str:
    """Shown to anyone but the holder: first 6 and last 4 kept (220102********123X)."""
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) == 11 else "*" * len(value)


def mask_name(value: str) -> str:
    """Public pages show the family name only: 古林前 -> 古**."""
    return value[:1] + "*" * (len(value) - 1)
