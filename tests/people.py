"""Fictional people with valid resident ID numbers, made on the fly."""

from __future__ import annotations

import itertools

from services.identity import id_check_char

_sequence = itertools.count(101)


def make_id_number(birth: str = "19800101", area: str = "220102") -> str:
    first17 = f"{area}{birth}{next(_sequence) % 1000:03d}"
    return first17 + id_check_char(first17)


_phones = itertools.count(1)


def make_phone() -> str:
    return f"138{next(_phones):08d}"


def make_wrong_check_id_number() -> str:
    """A well-shaped ID number whose check character is certainly wrong."""
    valid = make_id_number()
    return valid[:-1] + ("0" if valid[-1] != "0" else "1")
