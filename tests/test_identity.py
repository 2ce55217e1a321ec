"""ID numbers, phones and names are checked the way the provincial systems check them."""

from datetime import date

import pytest

from rules.identity import (
    InvalidIdentity,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_phone,
    parse_id_number,
    validate_name,
)


def test_known_valid_id_number_with_x_check_character() -> None:
    # The worked example of GB 11643-1999: 11010519491231002X.
    parsed = parse_id_number("11010519491231002x")
    assert parsed.value == "11010519491231002X"
    assert parsed.birth_date == date(1949, 12, 31)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("110105194912310021", "校验位"),
        ("11010519490231002X", "出生日期"),
        ("11010520990101002X", "出生日期"),
        ("1101051949123100", "18位"),
        ("11010519491231002Y", "18位"),
        ("' OR 1=1 --", "18位"),
    ],
)
def test_invalid_id_numbers_say_what_is_wrong(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidIdentity, match=fragment):
        parse_id_number(raw, today=date(2026, 1, 1))


@pytest.mark.parametrize("raw", ["13912345678", "139 1234 5678", "139-1234-5678", "+86 139 1234 5678"])
def test_phone_accepts_spaces_and_dashes_and_stores_digits(raw: str) -> None:
    assert normalize_phone(raw) == "13912345678"


@pytest.mark.parametrize("raw", ["12912345678", "1391234567", "139123456789", "电话13912345678"])
def test_phone_rejects_what_is_not_a_mobile_number(raw: str) -> None:
    with pytest.raises(InvalidIdentity, match="11位"):
        normalize_phone(raw)


def test_names_are_chinese_characters_with_an_optional_middle_dot() -> None:
    assert validate_name(" 古林前 ") == "古林前"
    assert validate_name("阿依古丽•买买提") == "阿依古丽·买买提"
    for bad in ["<script>alert(1)</script>", "Robert'); DROP TABLE persons;--", "古", "·古林"]:
        with pytest.raises(InvalidIdentity):
            validate_name(bad)


def test_masking_keeps_only_what_others_may_see() -> None:
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_phone("13912345678") == "139****5678"
    assert mask_name("古林前") == "古**"


def test_full_width_digits_are_the_same_number() -> None:
    assert normalize_phone("１３９１２３４５６７８") == "13912345678"
    assert parse_id_number("１１０１０５１９４９１２３１００２ｘ").value == "11010519491231002X"


def test_digits_of_other_scripts_are_refused() -> None:
    arabic_indic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    with pytest.raises(InvalidIdentity):
        parse_id_number("11010519491231002X".translate(arabic_indic))
    with pytest.raises(InvalidIdentity):
        normalize_phone("1" + "3912345678".translate(arabic_indic))
