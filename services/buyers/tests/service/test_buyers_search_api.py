"""Searching and reading buyers over HTTP, on both databases (SQLite's lower() knows only
ASCII, so å/ä/ö must work through the service's own lowercased search column)."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

import pytest
from contracts.buyers import BuyerCreated, UnitBuyersChanged


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
async def service(request, start_buyers_service, tmp_path_factory):
    async with start_buyers_service(request.param, tmp_path_factory.mktemp("buyers")) as running:
        yield running


@pytest.fixture(scope="module")
async def family(service, make):
    """Confirmed buyers who share a surname no other test uses: the searches look among them."""
    token = uuid4().hex[:8]
    people = {
        "asa": make.prospect("Åsa", f"Öberg{token}", email=f"Asa.Oberg.{token}@Example.se", phone="070-123 45 67"),
        "bjorn": make.prospect("Björn", f"Öberg{token}", email=f"bjorn.{token}@example.se", phone="+46 73 555 01 02"),
        "carl": make.prospect("Carl", f"Ängström{token}", email=f"carl.{token}@example.se"),
    }
    unit_id = uuid4()
    await service.publish(make.unit_changed(unit_id, "D-4401", 1))
    booked = {}
    for key, person in people.items():
        booked[key] = make.reserved(person, unit_id if key == "asa" else None)
        await service.publish(booked[key])
    # prospects confirms only after the buyer copy exists (the two events travel on different topics)
    for reserved in booked.values():
        await service.events.wait_for(BuyerCreated, booking_id=reserved.booking_id)
        await service.publish(make.confirmed(reserved))
    for reserved in booked.values():
        await service.events.wait_for(UnitBuyersChanged, unit_id=reserved.unit_id)
    await service.settled()  # the unit's name comes on another topic, handled by another worker
    return {"token": token, "people": people, "booked": booked, "unit_id": unit_id}


async def names(service, **params) -> list[str]:
    page = await service.get("/api/v1/buyers", **params)
    assert page["total"] == len(page["items"])
    return sorted(b["first_name"] for b in page["items"])


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("öberg{token}", ["Björn", "Åsa"]),
        ("ÖBERG{token}", ["Björn", "Åsa"]),
        ("Åsa Öberg{token}", ["Åsa"]),
        ("åsa öberg{token}", ["Åsa"]),
        ("öberg{token} åsa", ["Åsa"]),
        ("ängström{token}", ["Carl"]),
        ("berg{token}", ["Björn", "Åsa"]),  # partial
        ("asa.oberg.{token}@example.SE", ["Åsa"]),
        ("{token}@EXAMPLE", ["Björn", "Carl", "Åsa"]),
    ],
)
async def test_buyers_found_when_searching_name_or_email(service, family, query, found):
    assert await names(service, q=query.format(token=family["token"])) == found


@pytest.mark.parametrize(
    "phone",
    ["070-123 45 67", "0701234567", "+46701234567", "+46 70 123 45 67", "123 45 67"],
)
async def test_buyer_found_when_searching_phone_in_any_format(service, family, phone):
    found = (await service.get("/api/v1/buyers", q=phone, limit=500))["items"]
    assert str(family["people"]["asa"].prospect_id) in {b["prospect_id"] for b in found}


async def test_buyer_found_when_searching_the_swedish_form_of_an_international_number(service, family):
    found = (await service.get("/api/v1/buyers", q="073-555 01 02", limit=500))["items"]
    assert str(family["people"]["bjorn"].prospect_id) in {b["prospect_id"] for b in found}


async def test_nothing_found_when_no_buyer_matches(service, family):
    assert await names(service, q=f"nobody{family['token']}") == []


async def test_only_the_units_buyers_listed_when_filtering_by_unit(service, family):
    page = await service.get("/api/v1/buyers", unit_id=str(family["unit_id"]))
    assert [b["first_name"] for b in page["items"]] == ["Åsa"]
    assert page["items"][0]["units"] == [
        {"unit_id": str(family["unit_id"]), "unit_name": "D-4401", "booking_id": str(family["booked"]["asa"].booking_id)}
    ]


async def test_pages_cover_the_list_when_limit_and_offset_given(service, family):
    q = f"{family['token']}@example"
    first = await service.get("/api/v1/buyers", q=q, limit=1, offset=0)
    second = await service.get("/api/v1/buyers", q=q, limit=1, offset=1)
    rest = await service.get("/api/v1/buyers", q=q, limit=1, offset=3)
    assert first["total"] == second["total"] == rest["total"] == 3
    assert len(first["items"]) == len(second["items"]) == 1 and rest["items"] == []
    assert first["items"][0]["id"] != second["items"][0]["id"]


async def test_buyer_has_every_field_when_read_by_id(service, family):
    asa = family["people"]["asa"]
    [listed] = (await service.get("/api/v1/buyers", q=asa.email))["items"]
    buyer = await service.get(f"/api/v1/buyers/{listed['id']}")
    assert buyer == listed
    assert set(buyer) == {"id", "prospect_id", "first_name", "last_name", "email", "phone", "units", "created_at", "updated_at"}
    assert buyer["email"] == asa.email and buyer["phone"] == "070-123 45 67"
    assert all(datetime.fromisoformat(buyer[k]).utcoffset() is not None for k in ("created_at", "updated_at"))
    [link] = await service.links(booking_id=family["booked"]["asa"].booking_id)
    assert datetime.fromisoformat(link["created_at"]).utcoffset() is not None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "501"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"limit": "many"}, "limit"),
        ({"unit_id": "not-a-uuid"}, "unit_id"),
        ({"q": "x" * 101}, "q"),
    ],
)
async def test_list_refused_with_422_naming_the_field_when_a_parameter_is_invalid(service, params, field):
    response = await service.client.get("/api/v1/buyers", params=params)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["query", field]]


async def test_links_refused_with_422_when_limit_over_500(service):
    response = await service.client.get("/api/v1/buyer-links", params={"limit": 501})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_buyer_read_answers_422_when_the_id_is_not_a_uuid(service):
    response = await service.client.get("/api/v1/buyers/not-a-uuid")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "buyer_id"]


async def test_buyer_read_answers_404_when_the_buyer_is_unknown(service):
    buyer_id = uuid4()
    response = await service.client.get(f"/api/v1/buyers/{buyer_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": f"buyer {buyer_id} not found"}


async def test_buyer_links_documented_as_internal_when_openapi_read(service):
    operation = (await service.get("/openapi.json"))["paths"]["/api/v1/buyer-links"]["get"]
    assert operation["tags"] == ["internal"]
    assert "Internal" in operation["summary"]


async def test_health_answers_when_database_and_kafka_are_up(service):
    assert (await service.get("/healthz")) == {"status": "ok"}
    assert (await service.get("/readyz"))["status"] == "ready"
