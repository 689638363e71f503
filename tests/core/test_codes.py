"""Dossier codes: the common format generated here, the 2025 central format parsed."""

from __future__ import annotations

from datetime import date

import pytest

from cityhall.core.codes import CodeFormat, format_code, parse_code


def test_common_format_round_trips() -> None:
    code = format_code("000.00.01.H29", date(2026, 3, 10), 420)
    assert code == "000.00.01.H29-260310-0420"
    parsed = parse_code(code)
    assert parsed is not None
    assert (parsed.format, parsed.unit, parsed.day, parsed.sequence) == (
        CodeFormat.COMMON,
        "000.00.01.H29",
        date(2026, 3, 10),
        420,
    )
    assert str(parsed) == code
    # The sequence has at least four digits and grows beyond them.
    assert format_code("000.67.40.H29", date(2026, 12, 1), 12345).endswith("-12345")


def test_central_2025_format_is_parsed() -> None:
    parsed = parse_code("G22.99-260310-AB0001")
    assert parsed is not None
    assert (parsed.format, parsed.unit, parsed.prefix, parsed.sequence) == (
        CodeFormat.CENTRAL_2025,
        "G22.99",
        "AB",
        1,
    )
    assert str(parsed) == "G22.99-260310-AB0001"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "000.00.01.H29-261310-0420",
        "000.00.01.H29-260310-042",
        "hello",
        "000.00.01.H29-260230-0001",
    ],
)
def test_malformed_codes_are_rejected(text: str) -> None:
    assert parse_code(text) is None


def test_a_sequence_starts_at_one() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        format_code("000.00.01.H29", date(2026, 3, 10), 0)
