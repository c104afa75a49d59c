"""The one rule for the characters of names, and the escaping of text printed for people."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.core.names import check_name, escape_unsafe, first_unsafe
from steward.errors import InvalidInputError

REFUSED = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]] + list(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)


@pytest.mark.parametrize("char", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_every_refused_character_is_refused_naming_the_field_and_code_point(char: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        check_name(f"ab{char}c", "tags.k", kind="tag key")
    assert info.value.field == "tags.k"
    assert f"(U+{ord(char):04X}) at position 2" in info.value.message
    assert char not in info.value.message


@pytest.mark.parametrize("name", ["churn v2", "Ünïcode ok", "数据", "a-b_c.d/e:f", "emoji 🙂"])
def test_printable_names_in_any_script_pass_unchanged(name: str) -> None:
    assert check_name(name, "name") == name


def test_a_name_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        check_name(3, "name")


def test_escaping_writes_refused_characters_as_python_escapes_and_keeps_what_is_asked() -> None:
    assert escape_unsafe("a\x1b]0;t\x07\u202e") == "a\\x1b]0;t\\x07\\u202e"
    assert escape_unsafe("line 1\n\tline 2\x00", keep="\n\t") == "line 1\n\tline 2\\x00"


@given(st.text())
def test_escaped_text_holds_nothing_that_check_name_refuses(text: str) -> None:
    assert first_unsafe(escape_unsafe(text)) is None
    assert (first_unsafe(text) is None) == (escape_unsafe(text) == text)
