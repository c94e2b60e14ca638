"""Normalisation of identity keys (CONTRACT §2)."""

from __future__ import annotations

import hashlib

import pytest

from dagster_project.lib.identity import normalise_email, normalise_phone, sha256_hex


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+48 501 234 567", None, "+48501234567"),
        ("501 234 567", "PL", "+48501234567"),
        ("0048 501 234 567", "DE", "+48501234567"),
        ("088 123 4567", "BG", "+359881234567"),  # Bulgarian trunk prefix 0 dropped
        ("+359 88 123 4567", "BG", "+359881234567"),
        ("8 (916) 123-45-67", "RU", "+79161234567"),  # Russian trunk prefix 8
        ("(415) 555-2671", "US", "+14155552671"),
        ("2 123 4567", "LV", "+37121234567"),
        ("138 0013 8000", "CN", "+8613800138000"),
        ("not a number", "PL", None),
        ("", "PL", None),
        (None, "PL", None),
        ("12", "PL", None),
    ],
)
def test_normalise_phone_to_e164(raw: str | None, region: str | None, expected: str | None) -> None:
    assert normalise_phone(raw, region) == expected


def test_normalise_email_lowercases_and_trims() -> None:
    assert normalise_email("  Ana@Example.COM ") == "ana@example.com"
    assert normalise_email("   ") is None
    assert normalise_email(None) is None


def test_sha256_matches_hashlib_of_normalised_value() -> None:
    assert sha256_hex("ana@example.com") == hashlib.sha256(b"ana@example.com").hexdigest()
    assert sha256_hex(None) is None
