"""The contract's non-saga rows, through the gateway against the real services: errors,
validation, search, roles, and copies that follow their owners through events."""

from __future__ import annotations

import uuid

import httpx

from harness.client import Api
from nyprod_kit.testing import wait_until


def fields(resp: httpx.Response) -> set[str]:
    return {str(part) for e in resp.json()["detail"] for part in e["loc"]}


async def test_bad_input_is_422_naming_the_field_through_the_gateway(api):
    project = await api.project()
    cases = [
        ("POST", "/prospects", {"first_name": "", "last_name": "X"}, "first_name"),
        ("POST", "/prospects", {"first_name": "A", "last_name": "x" * 101}, "last_name"),
        ("POST", "/prospects", {"first_name": "A", "last_name": "B", "email": "not-an-email"}, "email"),
        ("POST", "/prospects", {"first_name": "A", "last_name": "B", "phone": "call me"}, "phone"),
        ("POST", "/prospects", {"first_name": "A", "last_name": "B", "note": "x" * 10_001}, "note"),
        ("POST", "/units", {"project_id": project["id"], "name": "A", "price_sek": "lots"}, "price_sek"),
        ("POST", "/bookings", {"prospect_id": "nope", "unit_id": str(uuid.uuid4())}, "prospect_id"),
    ]
    for method, path, body, field in cases:
        resp = await api.http.request(method, path, json=body)
        assert resp.status_code == 422, (path, body, resp.text)
        assert field in fields(resp), (path, body, resp.text)
    for path in ("/prospects", "/units", "/buyers", "/bookings", "/projects"):
        resp = await api.http.get(path, params={"limit": 501})
        assert resp.status_code == 422 and "limit" in fields(resp), path
    for path in ("/prospects/not-a-uuid", "/units/1", "/buyers/x", "/bookings/y"):
        assert (await api.http.get(path)).status_code == 422, path
    resp = await api.http.post("/prospects", content=b'{"first_name": ', headers={"content-type": "application/json"})
    assert resp.status_code == 422


async def test_unknown_ids_are_404_and_forbidden_changes_409(api):
    for path in ("/prospects", "/units", "/buyers", "/bookings", "/projects"):
        resp = await api.http.get(f"{path}/{uuid.uuid4()}")
        assert resp.status_code == 404 and isinstance(resp.json()["detail"], str), path
    resp = await api.http.post("/units", json={"project_id": str(uuid.uuid4()), "name": "A"})
    assert resp.status_code == 404
    resp = await api.http.post("/prospects", json={"first_name": "A", "last_name": "B", "interests": [str(uuid.uuid4())]})
    assert resp.status_code == 404
    project = await api.project()
    unit = await api.unit(project["id"])
    resp = await api.http.patch(f"/units/{unit['id']}", json={"status": "sold"})
    assert resp.status_code == 409 and resp.json()["reason"] == "booking_required"


async def test_bodies_over_one_megabyte_are_413(api):
    resp = await api.http.post("/prospects", content=b"{" + b" " * (1024 * 1024 + 10) + b"}", headers={"content-type": "application/json"})
    assert resp.status_code == 413


async def test_search_finds_prospects_by_name_email_and_phone_in_any_form(api):
    token = uuid.uuid4().hex[:6]
    p = await api.prospect("Göran", f"Bäckström{token}", email=f"goran.{token}@example.se", phone="070-123 45 67")
    for q in (f"bäckström{token}", f"BÄCKSTRÖM{token}", f"göran bäckström{token}", f"goran.{token}@EXAMPLE", f"kström{token}"):
        found = (await api.get("/prospects", q=q))["items"]
        assert p["id"] in [x["id"] for x in found], q
    for q in ("070-123 45 67", "0701234567", "+46701234567", "+46 70 123 45 67"):
        found = (await api.get("/prospects", q=q, limit=500))["items"]
        assert p["id"] in [x["id"] for x in found], q
    page = await api.get("/prospects", q=f"bäckström{token}", limit=1, offset=0)
    assert page["total"] == 1 and len(page["items"]) == 1


async def test_customer_card_follows_a_unit_status_change_made_in_the_units_service(api, stack):
    project = await api.project()
    unit = await api.unit(project["id"], "C-3301")
    prospect = await api.prospect(interests=[unit["id"]])
    card = await api.get(f"/prospects/{prospect['id']}")
    assert card["interests"] == [{"unit_id": unit["id"], "unit_name": "C-3301", "unit_status": "available", "bookable": True}]
    booking = await api.book((await api.prospect())["id"], unit["id"])
    assert (await api.final(booking["booking_id"]))["status"] == "confirmed"
    await api.ok("PATCH", f"/units/{unit['id']}", 200, json={"status": "reserved", "name": "C-3301b"})

    async def card_shows_reserved():
        interests = (await api.get(f"/prospects/{prospect['id']}"))["interests"]
        return interests[0]["unit_status"] == "reserved" and interests[0]["unit_name"] == "C-3301b" and interests[0]["bookable"] is False

    await wait_until(card_shows_reserved, timeout=10, message="the card to show the reserved unit")


async def test_roles_decide_who_may_write(api, stack):
    viewer_name = f"viewer{uuid.uuid4().hex[:6]}"
    await api.ok("POST", "/users", (200, 201), json={"username": viewer_name, "password": "läsare-123", "role": "viewer"})
    viewer = await Api.login(stack.gateway_url, viewer_name, "läsare-123")
    try:
        assert (await viewer.http.get("/prospects")).status_code == 200
        assert (await viewer.http.post("/projects", json={"name": "Nej"})).status_code == 403
        assert (await viewer.http.post("/bookings", json={"prospect_id": str(uuid.uuid4()), "unit_id": str(uuid.uuid4())})).status_code == 403
    finally:
        await viewer.close()
    async with httpx.AsyncClient(base_url=f"{stack.gateway_url}/api/v1") as anonymous:
        assert (await anonymous.get("/prospects")).status_code == 401
        assert (await anonymous.get("/units", headers={"Authorization": "Bearer not-a-token"})).status_code == 401
        assert (await anonymous.post("/auth/token", json={"username": "admin", "password": "wrong"})).status_code == 401


async def test_a_downed_service_gives_503_and_the_rest_keeps_answering(api, stack):
    stack.kill_service("buyers")
    try:
        resp = await api.http.get("/buyers")
        assert resp.status_code == 503 and "buyers" in resp.json()["detail"]
        assert (await api.http.get("/units")).status_code == 200
        async with httpx.AsyncClient() as client:
            ready = await client.get(f"{stack.gateway_url}/readyz")
        assert ready.status_code == 503
    finally:
        stack.start_service("buyers")
        await stack.wait_ready("buyers")
    assert (await api.http.get("/buyers")).status_code == 200


async def test_one_openapi_document_describes_the_whole_api(stack):
    async with httpx.AsyncClient() as client:
        doc = (await client.get(f"{stack.gateway_url}/openapi.json")).json()
        docs_page = await client.get(f"{stack.gateway_url}/docs")
    for path in ("/api/v1/prospects", "/api/v1/units/{unit_id}", "/api/v1/buyers", "/api/v1/bookings/{booking_id}", "/api/v1/auth/token", "/api/v1/stream"):
        assert path in doc["paths"], path
    assert "post" in doc["paths"]["/api/v1/buyers"] and "get" in doc["paths"]["/api/v1/buyers"]
    assert docs_page.status_code == 200 and "swagger" in docs_page.text.lower()
