"""Personal-data patterns: e-mail, phone, payment card (Luhn) and IBAN (mod 97).

The regular expressions run inside polars (one pass with the other checks) and find
candidates; cards and IBANs are then confirmed with their check digits in Python on the
candidates only, which removes most false positives (order numbers, other long digits).
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["PATTERNS", "VERIFIERS", "iban_is_valid", "luhn_is_valid"]

# Rust-regex syntax (polars' engine): no look-around.
PATTERNS: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}",
    # +country numbers, a bracketed area code, or dashed/dotted 3-3-4 groups; bare digit
    # runs are left to the card pattern (they are too often ids or amounts)
    "phone": r"(?:\+\d{1,3}[\s.\-]?\(?\d{1,4}\)?[\s.\-]?\d{3,4}[\s.\-]?\d{2,5}|\(\d{2,5}\)[\s.\-]?\d{3,4}[\s.\-]?\d{3,5}|\b\d{3}[.\-]\d{3}[.\-]\d{4}\b)(?:$|[^\d])",
    "card": r"(?:^|[^\d])(?:\d[ \-]?){12,18}\d(?:$|[^\d])",
    "iban": r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b",
}

_CARD = re.compile(r"(?:\d[ \-]?){12,18}\d")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")


def luhn_is_valid(number: str) -> bool:
    """True when the digits of ``number`` (13-19 of them) pass the Luhn checksum."""
    digits = [int(c) for c in number if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_is_valid(iban: str) -> bool:
    """True when ``iban`` (spaces allowed) passes the ISO 13616 mod-97 check."""
    compact = iban.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
    except ValueError:
        return False


def _any_card(text: str) -> bool:
    return any(luhn_is_valid(m.group()) for m in _CARD.finditer(text))


def _any_iban(text: str) -> bool:
    return any(iban_is_valid(m.group()) for m in _IBAN.finditer(text))


# Kinds whose regex candidates must be confirmed by a checksum.
VERIFIERS: dict[str, Callable[[str], bool]] = {"card": _any_card, "iban": _any_iban}
