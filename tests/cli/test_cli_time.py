"""Times the CLI shows (ISO-8601 UTC) and accepts (ISO-8601 or 30s/15m/7d)."""

from __future__ import annotations

import pytest

from steward.cli._time import format_elapsed, format_time, parse_duration, parse_since
from steward.errors import InvalidInputError


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("15m", 900), ("12h", 43_200), ("7d", 604_800), ("2w", 1_209_600)])
def test_durations_are_read_in_seconds(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


def test_since_a_duration_counts_back_from_now() -> None:
    assert parse_since("7d", now=1_000_000.0) == (1_000_000 - 604_800) * 1000


def test_since_an_iso_time_without_offset_is_utc() -> None:
    assert parse_since("2024-05-01T12:00:00") == parse_since("2024-05-01T12:00:00Z") == 1_714_564_800_000
    assert parse_since("2024-05-01T14:00:00+02:00") == 1_714_564_800_000


@pytest.mark.parametrize("text", ["", "7", "d7", "7 days", "-1d", "yesterday", "2024-13-01"])
def test_anything_else_is_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_since(text)


def test_times_are_shown_as_iso_8601_utc() -> None:
    assert format_time(1_714_564_800_000) == "2024-05-01T12:00:00Z"
    assert format_time(None) == "-"


def test_elapsed_times_are_short() -> None:
    assert format_elapsed(0, 42_000) == "42s"
    assert format_elapsed(0, 185_000) == "3m 05s"
    assert format_elapsed(0, 7_800_000) == "2h 10m"
    assert format_elapsed(0, None) == "-"
