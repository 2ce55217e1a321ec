"""Fictional people with valid resident ID numbers, made on the fly."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from rules.identity import id_check_char

_sequence = itertools.count(101)


def make_id_number(birth: str | None = None, area: str = "220102") -> str:
    """Unique for the whole run: after 1,000 sequence numbers the birth date moves on a day."""
    number = next(_sequence)
    born = birth or (date(1980, 1, 1) + timedelta(days=number // 1000)).strftime("%Y%m%d")
    first17 = f"{area}{born}{number % 1000:03d}"
    return first17 + id_check_char(first17)


_phones = itertools.count(1)


def make_phone() -> str:
    return f"138{next(_phones):08d}"


def make_wrong_check_id_number() -> str:
    """A well-shaped ID number whose check character is certainly wrong."""
    valid = make_id_number()
    return valid[:-1] + ("0" if valid[-1] != "0" else "1")
