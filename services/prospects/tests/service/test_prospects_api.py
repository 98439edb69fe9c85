"""Prospects over HTTP: the customer card, the contact data rules, search and erasure —
on PostgreSQL and on SQLite."""

from __future__ import annotations

import uuid

import pytest
from contracts.booking import ProspectChanged, ProspectErased
from contracts.types import UnitStatus

from nyprod_kit.testing import wait_until

API = "/api/v1"


def _tag() -> str:
    """Letters only, unique per test, to find just this test's prospects in a shared database."""
    return "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:10])


def _field_errors(response) -> list[tuple]:  # noqa: ANN001
    assert response.status_code == 422, response.text
    return [tuple(e["loc"]) for e in response.json()["detail"]]


# ---- creating and reading -------------------------------------------------------------------


async def test_new_prospect_is_a_prospect_with_its_interests_when_created(service) -> None:  # noqa: ANN001
    free = await service.unit("A-1101")
    taken = await service.unit("A-1102", status=UnitStatus.BOOKED)

    response = await service.client.post(
        f"{API}/prospects",
        json={
            "first_name": " Åsa ",
            "last_name": "Öberg",
            "email": "asa.oberg@example.se",
            "phone": "070-123 45 67",
            "note": "wants a balcony",
            "interests": [str(free), str(taken), str(free)],
        },
    )

    assert response.status_code == 201, response.text
    card = response.json()
    assert card["first_name"] == "Åsa" and card["last_name"] == "Öberg"
    assert (card["email"], card["phone"], card["note"]) == ("asa.oberg@example.se", "070-123 45 67", "wants a balcony")
    assert card["status"] == "prospect"
    assert card["interests"] == [
        {"unit_id": str(free), "unit_name": "A-1101", "unit_status": "available", "bookable": True},
        {"unit_id": str(taken), "unit_name": "A-1102", "unit_status": "booked", "bookable": False},
    ]
    assert card["bookings"] == []
    assert card["created_at"].endswith(("Z", "+00:00"))
    fetched = await service.client.get(f"{API}/prospects/{card['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == card


async def test_only_names_are_needed_when_creating_a_prospect(service) -> None:  # noqa: ANN001
    response = await service.client.post(f"{API}/prospects", json={"first_name": "Bo", "last_name": "Ek"})
    assert response.status_code == 201
    assert {k: response.json()[k] for k in ("email", "phone", "note", "interests")} == {"email": None, "phone": None, "note": None, "interests": []}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"last_name": "Ek"}, "first_name"),
        ({"first_name": "Bo"}, "last_name"),
        ({"first_name": "", "last_name": "Ek"}, "first_name"),
        ({"first_name": "   ", "last_name": "Ek"}, "first_name"),
        ({"first_name": "B" * 101, "last_name": "Ek"}, "first_name"),
        ({"first_name": "Bo", "last_name": "E" * 101}, "last_name"),
        ({"first_name": "Bo", "last_name": "Ek", "email": "not-an-address"}, "email"),
        ({"first_name": "Bo", "last_name": "Ek", "email": "a" * 64 + "@" + ("b" * 60 + ".") * 4 + "se"}, "email"),
        ({"first_name": "Bo", "last_name": "Ek", "phone": "070-ABC 45"}, "phone"),
        ({"first_name": "Bo", "last_name": "Ek", "phone": "12345"}, "phone"),
        ({"first_name": "Bo", "last_name": "Ek", "phone": "1" * 21}, "phone"),
        ({"first_name": "Bo", "last_name": "Ek", "note": "x" * 10_001}, "note"),
        ({"first_name": "Bo", "last_name": "Ek", "interests": ["A-1101"]}, "interests"),
        ({"first_name": "Bo", "last_name": "Ek", "shoe_size": 44}, "shoe_size"),
    ],
)
async def test_create_names_the_bad_field_when_invalid(service, body: dict, field: str) -> None:  # noqa: ANN001
    assert ("body", field) in [loc[:2] for loc in _field_errors(await service.client.post(f"{API}/prospects", json=body))]


async def test_longest_allowed_values_are_kept_when_at_the_limits(service) -> None:  # noqa: ANN001
    email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 58 + ".se"
    assert len(email) == 254
    response = await service.client.post(
        f"{API}/prospects",
        json={"first_name": "B" * 100, "last_name": "E" * 100, "email": email, "note": "x" * 10_000, "phone": "+" + "1" * 20},
    )
    assert response.status_code == 201, response.text
    assert len(response.json()["note"]) == 10_000


async def test_malformed_json_is_refused_when_posted(service) -> None:  # noqa: ANN001
    response = await service.client.post(f"{API}/prospects", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422


async def test_unknown_interest_is_not_found_when_creating(service) -> None:  # noqa: ANN001
    unknown = uuid.uuid4()
    response = await service.client.post(f"{API}/prospects", json={"first_name": "Bo", "last_name": "Ek", "interests": [str(unknown)]})
    assert response.status_code == 404
    assert str(unknown) in response.json()["detail"]


async def test_unknown_prospect_is_not_found_when_read(service) -> None:  # noqa: ANN001
    response = await service.client.get(f"{API}/prospects/{uuid.uuid4()}")
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize(("method", "path"), [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("PUT", "/interests")])
async def test_id_is_refused_when_not_a_uuid(service, method: str, path: str) -> None:  # noqa: ANN001
    response = await service.client.request(method, f"{API}/prospects/not-a-uuid{path}", json={"unit_ids": []} if method == "PUT" else None)
    assert ("path", "prospect_id") in _field_errors(response)


# ---- the list and its search ----------------------------------------------------------------


@pytest.fixture(scope="module")
async def people(service) -> dict:  # noqa: ANN001
    """A few prospects with a shared, unique tag in their e-mail, to search among."""
    tag = _tag()
    rows = {
        "asa": {"first_name": "Åsa", "last_name": f"Öberg{tag}", "email": f"asa.{tag}@example.se", "phone": "070-123 45 67"},
        "arlig": {"first_name": "Ärlig", "last_name": f"Änglund{tag}", "email": f"arlig.{tag}@firma.se", "phone": "+46 8 555 123 00"},
        "per": {"first_name": "Per", "last_name": f"Persson{tag}", "email": f"per.{tag}@example.com", "phone": "+47 22 33 44 55"},
        "anna": {"first_name": "Anna", "last_name": f"Svensson{tag}", "email": None, "phone": None},
    }
    ids = {}
    for key, body in rows.items():
        ids[key] = (await service.prospect(**body))["id"]
    return {"tag": tag, "ids": ids}


async def _found(service, q: str, **params) -> set[str]:  # noqa: ANN001
    response = await service.client.get(f"{API}/prospects", params={"q": q, "limit": 500, **params})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return {p["id"] for p in page["items"]}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("åsa", {"asa"}),
        ("ÅSA", {"asa"}),
        ("Ärl", {"arlig"}),
        ("änglund{tag}", {"arlig"}),
        ("ÖBERG{tag}", {"asa"}),
        ("åsa öberg{tag}", {"asa"}),
        ("anna svensson{tag}", {"anna"}),
        ("ERSSON{tag}", {"per"}),
        ("{tag}@example", {"asa", "per"}),
        ("PER.{tag}@EXAMPLE.COM", {"per"}),
        ("@firma.se", {"arlig"}),
    ],
)
async def test_search_finds_by_name_or_email_when_case_or_letters_differ(service, people, q: str, expected: set[str]) -> None:  # noqa: ANN001
    q = q.format(tag=people["tag"])
    found = await _found(service, q)
    mine = set(people["ids"].values())
    assert found & mine == {people["ids"][k] for k in expected}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("0701234567", {"asa"}),
        ("070-123 45 67", {"asa"}),
        ("070 123", {"asa"}),
        ("+46701234567", {"asa"}),
        ("+46 70 123 45 67", {"asa"}),
        ("1234567", {"asa"}),
        ("08-555 123", {"arlig"}),
        ("+468555", {"arlig"}),
        ("+47 22 33", {"per"}),
        ("0047223344", {"per"}),
    ],
)
async def test_search_finds_by_phone_when_typed_any_way(service, people, q: str, expected: set[str]) -> None:  # noqa: ANN001
    found = await _found(service, q)
    assert found & set(people["ids"].values()) == {people["ids"][k] for k in expected}


async def test_search_matches_partially_and_literally_when_query_has_wildcards(service, people) -> None:  # noqa: ANN001
    assert await _found(service, f"%{people['tag']}") == set()
    assert await _found(service, f"_berg{people['tag']}") == set()


async def test_list_filters_by_status_and_pages_when_asked(service, people) -> None:  # noqa: ANN001
    tag = people["tag"]
    assert await _found(service, tag, status="buyer") == set()
    assert await _found(service, tag, status="prospect") == set(people["ids"].values())
    first = (await service.client.get(f"{API}/prospects", params={"q": tag, "limit": 2})).json()
    rest = (await service.client.get(f"{API}/prospects", params={"q": tag, "limit": 2, "offset": 2})).json()
    assert first["total"] == rest["total"] == 4
    assert len(first["items"]) == len(rest["items"]) == 2
    assert {p["id"] for p in first["items"] + rest["items"]} == set(people["ids"].values())


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 501}, "limit"), ({"limit": 0}, "limit"), ({"offset": -1}, "offset"), ({"status": "vip"}, "status"), ({"q": "x" * 201}, "q")],
)
async def test_list_names_the_bad_parameter_when_invalid(service, params: dict, field: str) -> None:  # noqa: ANN001
    assert ("query", field) in _field_errors(await service.client.get(f"{API}/prospects", params=params))


# ---- changing -------------------------------------------------------------------------------


async def test_contact_change_is_published_for_the_buyer_copy_when_patched(service) -> None:  # noqa: ANN001
    prospect = await service.prospect(email="old@example.se", phone="070-000 00 01")

    response = await service.client.patch(
        f"{API}/prospects/{prospect['id']}", json={"last_name": "Lind", "phone": "+46 70 999 88 77", "email": None}
    )

    assert response.status_code == 200, response.text
    card = response.json()
    assert (card["first_name"], card["last_name"], card["email"], card["phone"]) == ("Åsa", "Lind", None, "+46 70 999 88 77")
    assert card["updated_at"] > prospect["updated_at"]
    (changed,) = await service.outbox_events(prospect_id=uuid.UUID(prospect["id"]))
    assert isinstance(changed, ProspectChanged)
    assert (changed.first_name, changed.last_name, changed.email, changed.phone) == ("Åsa", "Lind", None, "+46 70 999 88 77")
    assert changed.key == prospect["id"]
    assert await _found(service, "0709998877") == {prospect["id"]}
    assert await _found(service, "old@example.se") & {prospect["id"]} == set()


async def test_note_change_publishes_nothing_when_contact_data_is_the_same(service) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    response = await service.client.patch(f"{API}/prospects/{prospect['id']}", json={"note": "called back", "first_name": "Åsa"})
    assert response.status_code == 200
    assert response.json()["note"] == "called back"
    assert await service.outbox_events(prospect_id=uuid.UUID(prospect["id"])) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": None}, "first_name"),
        ({"last_name": ""}, "last_name"),
        ({"email": "nope"}, "email"),
        ({"phone": "abc123456"}, "phone"),
        ({"note": "x" * 10_001}, "note"),
        ({"status": "buyer"}, "status"),
    ],
)
async def test_patch_names_the_bad_field_when_invalid(service, body: dict, field: str) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    assert ("body", field) in [loc[:2] for loc in _field_errors(await service.client.patch(f"{API}/prospects/{prospect['id']}", json=body))]


async def test_patch_is_not_found_when_prospect_unknown(service) -> None:  # noqa: ANN001
    assert (await service.client.patch(f"{API}/prospects/{uuid.uuid4()}", json={"note": "x"})).status_code == 404


async def test_interests_are_replaced_in_order_when_put(service) -> None:  # noqa: ANN001
    a, b, c = [await service.unit(name) for name in ("B-01", "B-02", "B-03")]
    prospect = await service.prospect(interests=[str(a)])

    response = await service.client.put(f"{API}/prospects/{prospect['id']}/interests", json={"unit_ids": [str(c), str(b), str(c)]})

    assert response.status_code == 200, response.text
    assert [(i["unit_id"], i["unit_name"]) for i in response.json()["interests"]] == [(str(c), "B-03"), (str(b), "B-02")]
    cleared = await service.client.put(f"{API}/prospects/{prospect['id']}/interests", json={"unit_ids": []})
    assert cleared.json()["interests"] == []


async def test_interests_stay_when_an_unknown_unit_is_put(service) -> None:  # noqa: ANN001
    a = await service.unit()
    prospect = await service.prospect(interests=[str(a)])
    response = await service.client.put(f"{API}/prospects/{prospect['id']}/interests", json={"unit_ids": [str(a), str(uuid.uuid4())]})
    assert response.status_code == 404
    assert [i["unit_id"] for i in (await service.client.get(f"{API}/prospects/{prospect['id']}")).json()["interests"]] == [str(a)]


async def test_put_interests_names_the_field_when_invalid(service) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    assert ("body", "unit_ids") in [loc[:2] for loc in _field_errors(await service.client.put(f"{API}/prospects/{prospect['id']}/interests", json={"unit_ids": ["x"]}))]
    assert ("body", "unit_ids") in _field_errors(await service.client.put(f"{API}/prospects/{prospect['id']}/interests", json={}))


async def test_put_interests_is_not_found_when_prospect_unknown(service) -> None:  # noqa: ANN001
    assert (await service.client.put(f"{API}/prospects/{uuid.uuid4()}/interests", json={"unit_ids": []})).status_code == 404


# ---- erasure --------------------------------------------------------------------------------


async def test_personal_data_is_gone_and_announced_when_erased(service) -> None:  # noqa: ANN001
    unit = await service.unit()
    prospect = await service.prospect(email="erase.me@example.se", phone="070-555 44 33", interests=[str(unit)])

    response = await service.client.delete(f"{API}/prospects/{prospect['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert (await service.client.get(f"{API}/prospects/{prospect['id']}")).status_code == 404
    assert await _found(service, "erase.me@example.se") == set()
    erased = await service.outbox_events(prospect_id=uuid.UUID(prospect["id"]))
    assert [type(e) for e in erased] == [ProspectErased]
    assert (await service.client.delete(f"{API}/prospects/{prospect['id']}")).status_code == 404


async def test_unit_copy_follows_units_when_its_status_changes(service) -> None:  # noqa: ANN001
    unit = await service.unit("C-01")
    prospect = await service.prospect(interests=[str(unit)])
    await service.unit("C-01", status=UnitStatus.SOLD, revision=3, unit_id=unit)
    await service.unit("C-01 old name", status=UnitStatus.AVAILABLE, revision=2, unit_id=unit)

    async def card_interest() -> dict:
        return (await service.client.get(f"{API}/prospects/{prospect['id']}")).json()["interests"][0]

    interest = await wait_until(card_interest)
    assert (interest["unit_name"], interest["unit_status"], interest["bookable"]) == ("C-01", "sold", False)
