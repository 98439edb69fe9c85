"""Pure rules about prospects: statuses, phone numbers and what a search term means.

No I/O: plain values in, plain values out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class ProspectStatus(StrEnum):
    PROSPECT = "prospect"
    BUYER = "buyer"


# ---- phone numbers ------------------------------------------------------------------------

PHONE_MIN_DIGITS = 6
PHONE_MAX_DIGITS = 20
PHONE_MAX_LENGTH = 40
_PHONE_SHAPE = re.compile(r"\+?[0-9 ()\-]+")
_NOT_DIGIT = re.compile(r"\D")


def check_phone(phone: str) -> str:
    """The phone number as typed (trimmed), or ValueError saying what is wrong with it."""
    phone = phone.strip()
    if len(phone) > PHONE_MAX_LENGTH:
        raise ValueError(f"a phone number has at most {PHONE_MAX_LENGTH} characters")
    if not _PHONE_SHAPE.fullmatch(phone):
        raise ValueError("a phone number has digits, spaces, dashes, parentheses and an optional leading +")
    digits = len(_NOT_DIGIT.sub("", phone))
    if not PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS:
        raise ValueError(f"a phone number has {PHONE_MIN_DIGITS} to {PHONE_MAX_DIGITS} digits")
    return phone


def normalise_phone(phone: str) -> str:
    """One form per number, as dialled from Sweden: digits only, ``+46`` (or ``0046``) becomes the
    leading ``0`` and any other ``+`` becomes ``00``. So ``070-123 45 67``, ``+46 70 123 45 67`` and
    ``+46 (0)70 123 45 67`` are all ``0701234567``."""
    phone = phone.strip()
    digits = _NOT_DIGIT.sub("", phone)
    if phone.startswith("+"):
        digits = "00" + digits
    if digits.startswith("0046"):
        national = digits[4:]
        # "+46 (0)70…": the trunk 0 written after the country code is not dialled twice
        return national if national.startswith("0") else "0" + national
    return digits


# ---- search -------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """What searching compares: NFC (so a typed "å" equals a composed one), lowercase (Python's
    lower() folds Å/Ä/Ö, which SQLite's lower() does not), single spaces."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text).lower()).strip()


def name_search_text(first_name: str, last_name: str) -> str:
    """The stored form a name query is matched against: "first last", so first name, last name
    and "first last" are all parts of it."""
    return fold(f"{first_name} {last_name}")


@dataclass(frozen=True)
class SearchTerms:
    text: str  # matched against name and e-mail
    phone: str | None  # the normalised number, when the query could be (part of) one


def search_terms(q: str | None) -> SearchTerms | None:
    """None when there is nothing to search for."""
    if q is None:
        return None
    text = fold(q)
    if not text:
        return None
    phone = None
    if _PHONE_SHAPE.fullmatch(text):
        digits = normalise_phone(text)
        # "+" alone, or "+4" on its way to "+46", says nothing yet about the number
        if digits and digits not in ("00", "004"):
            phone = digits
    return SearchTerms(text=text, phone=phone)
