"""Phone numbers (validation, normalisation) and what a search term means."""

from __future__ import annotations

import pytest

from prospects.domain import SearchTerms, check_phone, fold, name_search_text, normalise_phone, search_terms


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("070-123 45 67", "0701234567"),
        ("0701234567", "0701234567"),
        ("+46701234567", "0701234567"),
        ("+46 70 123 45 67", "0701234567"),
        ("+46 (0)70-123 45 67", "0701234567"),
        ("0046 70 123 45 67", "0701234567"),
        ("08-123 456 78", "0812345678"),
        ("(08) 123 456 78", "0812345678"),
        ("+47 22 33 44 55", "004722334455"),
        ("  070 123 45 67 ", "0701234567"),
    ],
)
def test_one_number_has_one_form_when_normalised(typed: str, normalised: str) -> None:
    assert normalise_phone(typed) == normalised


@pytest.mark.parametrize("typed", ["070-123 45 67", "+46701234567", "(08) 123 456 78", "123456", "+" + "1" * 20])
def test_phone_is_kept_as_typed_when_valid(typed: str) -> None:
    assert check_phone(typed) == typed


@pytest.mark.parametrize(
    ("typed", "complaint"),
    [
        ("070-ABC", "digits, spaces"),
        ("070+1234567", "digits, spaces"),
        ("++46701234567", "digits, spaces"),
        ("070.123.45.67", "digits, spaces"),
        ("12345", "6 to 20 digits"),
        ("1" * 21, "6 to 20 digits"),
        ("1 " * 21, "at most 40 characters"),
        ("", "digits, spaces"),
    ],
)
def test_phone_is_refused_with_the_reason_when_invalid(typed: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        check_phone(typed)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ÅSA ÖBERG", "åsa öberg"),
        ("Ärlig  \t Änglund", "ärlig änglund"),
        ("A\u030asa", "åsa"),  # "å" typed as a + combining ring
        ("  Per ", "per"),
    ],
)
def test_case_accents_and_spacing_do_not_matter_when_folded(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_name_is_searched_as_first_then_last_when_stored() -> None:
    assert name_search_text("Åsa", "Öberg-Lind") == "åsa öberg-lind"


@pytest.mark.parametrize(
    ("q", "terms"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("Anna", SearchTerms("anna", None)),
        ("ÅSA Öberg", SearchTerms("åsa öberg", None)),
        ("anna@EXAMPLE.se", SearchTerms("anna@example.se", None)),
        ("070-123 45", SearchTerms("070-123 45", "07012345")),
        ("+46 70 123", SearchTerms("+46 70 123", "070123")),
        ("0046701", SearchTerms("0046701", "0701")),
        ("1234", SearchTerms("1234", "1234")),
        ("+", SearchTerms("+", None)),
        ("+4", SearchTerms("+4", None)),
        ("anna 070", SearchTerms("anna 070", None)),
    ],
)
def test_query_means_text_and_maybe_a_phone_number_when_parsed(q: str | None, terms: SearchTerms | None) -> None:
    assert search_terms(q) == terms
