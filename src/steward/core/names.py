"""The characters no name may hold, and how to show text that holds them anyway.

Every kind of name (experiments, runs, registered models, aliases, datasets, suites,
users, secrets, tag / param / metric keys, deployments) passes :func:`check_name` before
the kind's own rule (length, alphabet). It refuses the characters that let a name lie
about itself or attack the terminal that prints it:

- C0 control characters (U+0000-U+001F, NUL, ESC, newline included), DEL and the C1
  controls (U+007F-U+009F): an ESC sequence in a name can set a terminal's title or
  rewrite what is on screen;
- bidirectional overrides, embeddings, isolates and marks (U+202A-U+202E, U+2066-U+2069,
  U+200E, U+200F, U+061C): they make ``abc`` look like ``cba`` ("Trojan Source");
- zero-width characters (U+200B-U+200D, U+2060, U+FEFF) and the line / paragraph
  separators (U+2028, U+2029): two names that look the same must be the same name.

Names stored before this rule (or text that is not a name: descriptions, column names
read from a file) may still hold such characters, so whatever prints text for people
passes it through :func:`escape_unsafe`.
"""

from __future__ import annotations

import re

from steward.errors import InvalidInputError

__all__ = ["check_name", "escape_unsafe", "first_unsafe"]

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)
_KINDS = {
    **{chr(c): "a control character" for c in [*range(0x20), *range(0x7F, 0xA0)]},
    **{c: "a bidirectional control character" for c in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"},
    **{c: "a zero-width character" for c in "\u200b\u200c\u200d\u2060\ufeff"},
    "\u2028": "a line separator",
    "\u2029": "a paragraph separator",
}


def first_unsafe(text: str) -> int | None:
    """The position of the first character :func:`check_name` refuses, or ``None``."""
    found = _UNSAFE.search(text)
    return None if found is None else found.start()


def check_name(value: object, field: str, *, kind: str = "name") -> str:
    """Refuse a name holding control, bidirectional or zero-width characters.

    Only the characters are checked here; each kind adds its own length and alphabet.

    Args:
        value: the name as given.
        field: the input field named in the error (``name``, ``tags.<key>``, ...).
        kind: how the message calls the name (``experiment name``, ``tag key``).

    Returns:
        ``value`` unchanged.

    Raises:
        InvalidInputError: ``value`` is not a string or holds such a character; the
            message names the character's code point and position, never the name.

    Example:
        >>> check_name("churn v2", "name")
        'churn v2'
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"{kind} must be a string", field=field)
    pos = first_unsafe(value)
    if pos is not None:
        char = value[pos]
        raise InvalidInputError(
            f"{kind} holds {_KINDS[char]} (U+{ord(char):04X}) at position {pos}; "
            "names may not contain control, bidirectional or zero-width characters",
            field=field,
        )
    return value


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_unsafe(text: str, *, keep: str = "") -> str:
    """``text`` with every character :func:`check_name` refuses written as ``\\x1b`` / ``\\u202e``.

    Args:
        text: what is about to be printed.
        keep: characters to print as they are (``"\\n\\t"`` for multi-line blocks).

    Example:
        >>> escape_unsafe("a\\x1b]0;pwned\\x07")
        'a\\\\x1b]0;pwned\\\\x07'
    """
    if keep:
        return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _escaped(m), text)
    return _UNSAFE.sub(_escaped, text)
