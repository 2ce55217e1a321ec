"""What staff may read of a trainee's words: ID numbers and phones anywhere in a text are shown the
way rules.identity masks them, also when typed with spaces or dashes between the digits."""

from __future__ import annotations

import re

from rules.identity import mask_id_number, mask_phone

_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:[0-9][\s-]?){17}[0-9Xx](?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![0-9])1[\s-]?[3-9](?:[\s-]?[0-9]){9}(?![0-9])")
_SEPARATORS = re.compile(r"[\s-]")


def mask_text(text: str) -> str:
    plain = text.translate(_FULL_WIDTH)
    plain = _ID_NUMBER.sub(lambda m: mask_id_number(_SEPARATORS.sub("", m.group(0)).upper()), plain)
    return _PHONE.sub(lambda m: mask_phone(_SEPARATORS.sub("", m.group(0))), plain)
