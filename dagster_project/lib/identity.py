"""Normalisation of the identifiers that stitch identities together (CONTRACT §2).

Emails compare lower-cased and trimmed of all whitespace; phone numbers compare in E.164. Phone
parsing is the ``phonenumbers`` library (Google's libphonenumber rules), not a
regex: national formats need the country's trunk prefix rules to come out right.
"""

from __future__ import annotations

import hashlib

import phonenumbers


def normalise_email(email: str | None) -> str | None:
    """Lower-cased, every leading and trailing whitespace character removed, None when empty.

    ``str.strip()`` removes spaces, tabs, newlines, no-break spaces and the other Unicode
    spaces; the dbt macro ``normalise_email`` (dbt_project/macros/email.sql) trims exactly
    the same characters, so both sides give the same key and the same hash.
    """
    if email is None:
        return None
    cleaned = email.strip().lower()
    return cleaned or None


def normalise_phone(raw: str | None, default_region: str | None = None) -> str | None:
    """E.164 form of ``raw``, or None when it is not a possible number.

    ``default_region`` (ISO country code) interprets numbers written in national
    format; numbers with a leading ``+`` or ``00`` ignore it.
    """
    if not raw or not raw.strip():
        return None
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    region = (default_region or "").upper() or None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def sha256_hex(value: str | None) -> str | None:
    """The hash the marts carry instead of personal data (same as SQL ``sha256(value)``)."""
    if value is None:
        return None
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
