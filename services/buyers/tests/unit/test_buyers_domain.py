"""The buyers service's pure rules, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from buyers.domain import (
    BuyerState,
    Contact,
    Erasure,
    Link,
    LinkState,
    confirmed_units,
    decide_buyer_creation,
    decide_erasure,
    decide_rejection,
    is_newer,
    names_differ,
    normalize_phone,
    search_terms,
    search_text,
)

BOOKING = uuid4()
OTHER_BOOKING = uuid4()
UNIT = uuid4()
OTHER_UNIT = uuid4()


def buyer(*links: Link, created_for: UUID | None = BOOKING, ever_confirmed: bool = False) -> BuyerState:
    return BuyerState(buyer_id=uuid4(), created_for_booking_id=created_for, ever_confirmed=ever_confirmed, links=links)


PENDING = Link(BOOKING, UNIT, LinkState.PENDING)
CONFIRMED = Link(BOOKING, UNIT, LinkState.CONFIRMED)
OTHER_PENDING = Link(OTHER_BOOKING, OTHER_UNIT, LinkState.PENDING)
OTHER_CONFIRMED = Link(OTHER_BOOKING, OTHER_UNIT, LinkState.CONFIRMED)


@pytest.mark.parametrize(
    ("state", "delete", "confirmed_changed", "dropped"),
    [
        pytest.param(buyer(PENDING), True, False, 1, id="made for this booking alone"),
        pytest.param(buyer(PENDING, OTHER_PENDING), False, False, 1, id="waiting on another booking too"),
        pytest.param(buyer(PENDING, OTHER_CONFIRMED, ever_confirmed=True), False, False, 1, id="buyer of another unit"),
        pytest.param(buyer(PENDING, ever_confirmed=True), False, False, 1, id="a buyer once, cancelled since"),
        pytest.param(buyer(PENDING, created_for=OTHER_BOOKING), False, False, 1, id="made for an earlier booking"),
        pytest.param(buyer(OTHER_PENDING), False, False, 0, id="not linked to this booking"),
        pytest.param(buyer(CONFIRMED, ever_confirmed=True), False, True, 1, id="confirmed link of this booking"),
    ],
)
def test_rejection_drops_the_booking_links_and_only_a_buyer_made_for_it_when_rejected(
    state: BuyerState, delete: bool, confirmed_changed: bool, dropped: int
):
    decision = decide_rejection(state, BOOKING)
    assert decision.delete_buyer is delete
    assert decision.confirmed_changed is confirmed_changed
    assert len(decision.drop) == dropped
    assert all(link.booking_id == BOOKING for link in decision.drop)


@pytest.mark.parametrize(
    ("state", "erasure"),
    [
        pytest.param(buyer(), Erasure.DELETE, id="no links"),
        pytest.param(buyer(ever_confirmed=True), Erasure.DELETE, id="cancelled buyer without units"),
        pytest.param(buyer(PENDING), Erasure.ANONYMISE, id="booking still running"),
        pytest.param(buyer(CONFIRMED, ever_confirmed=True), Erasure.ANONYMISE, id="confirmed buyer"),
    ],
)
def test_erasure_deletes_a_buyer_only_when_nothing_links_to_it(state: BuyerState, erasure: Erasure):
    assert decide_erasure(state) is erasure


def test_confirmed_units_lists_only_confirmed_links_when_some_are_pending():
    assert confirmed_units(buyer(PENDING, OTHER_CONFIRMED)) == {OTHER_UNIT}


@pytest.mark.parametrize(
    ("contact", "erased", "reason"),
    [
        (Contact("Anna", "Svensson"), False, None),
        (Contact("Anna", "Svensson", "anna@example.se", "070-123 45 67"), False, None),
        (Contact("Anna", "Svensson"), True, "prospect_erased"),
        (Contact(" ", "Svensson"), False, "prospect_name_missing"),
        (Contact("Anna", ""), False, "prospect_name_missing"),
        (Contact("A" * 101, "Svensson"), False, "prospect_data_invalid"),
        (Contact("Anna", "Svensson", "a" * 255), False, "prospect_data_invalid"),
    ],
)
def test_buyer_creation_is_refused_with_a_reason_when_the_copy_cannot_be_made(contact: Contact, erased: bool, reason: str | None):
    assert decide_buyer_creation(contact, prospect_erased=erased) == reason


NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "incoming", "newer"),
    [
        (NOW, NOW + timedelta(seconds=1), True),
        (NOW, NOW, True),
        (NOW, NOW - timedelta(seconds=1), False),
        (NOW.replace(tzinfo=None), NOW + timedelta(seconds=1), True),  # as SQLite gives it back
        (NOW.replace(tzinfo=None), NOW - timedelta(seconds=1), False),
    ],
)
def test_contact_data_is_replaced_only_when_incoming_data_is_not_older(current: datetime, incoming: datetime, newer: bool):
    assert is_newer(current, incoming) is newer


@pytest.mark.parametrize(
    ("old", "new", "differ"),
    [
        (Contact("Anna", "Svensson"), Contact("Anna", "Svensson", "new@example.se"), False),
        (Contact("Anna", "Svensson"), Contact("Anna", "Berg"), True),
        (Contact("Anna", "Svensson"), Contact("Anne", "Svensson"), True),
    ],
)
def test_names_differ_only_when_a_name_changed(old: Contact, new: Contact, differ: bool):
    assert names_differ(old, new) is differ


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("070-123 45 67", "+46701234567"),
        ("+46 70 123 45 67", "+46701234567"),
        ("0046701234567", "+46701234567"),
        ("(08) 123 45", "+46812345"),
        ("123 45", "12345"),
        ("anna@example.se", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_phone_treats_leading_zero_as_plus_46_when_given_a_swedish_number(raw: str | None, normalized: str | None):
    assert normalize_phone(raw) == normalized


def test_search_text_is_lowercase_with_names_email_and_both_phone_forms_when_built():
    text = search_text(Contact("Åsa", "Öberg", "Asa.Oberg@Example.SE", "070-123 45 67"))
    assert text.split("\n") == ["åsa öberg", "asa.oberg@example.se", "070-123 45 67", "+46701234567"]


@pytest.mark.parametrize(
    ("q", "words", "phone"),
    [
        (None, None, None),
        ("   ", None, None),
        ("ÅSA", ("åsa",), None),
        ("Åsa  Öberg", ("åsa", "öberg"), None),
        ("0701234567", ("0701234567",), "+46701234567"),
        ("070-123 45", ("070-123", "45"), "+467012345"),
        ("07", ("07",), None),  # too few digits to mean a phone number
    ],
)
def test_search_terms_split_words_and_read_phone_numbers_when_given_a_query(q: str | None, words, phone):
    terms = search_terms(q)
    if words is None:
        assert terms is None
    else:
        assert terms is not None
        assert (terms.words, terms.phone) == (words, phone)
