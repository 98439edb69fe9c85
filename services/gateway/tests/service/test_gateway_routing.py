"""Forwarding to the real units service; limits, unavailable services and readiness."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest


@pytest.fixture(scope="module")
async def silent_url():
    """A service that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    for writer in held:
        writer.close()
    server.close()


@pytest.fixture(scope="module")
async def gateway(units_url, silent_url, closed_port_url, make_settings, serve, build):
    # prospects is down (nothing listens), buyers hangs (accepts, never answers)
    settings = make_settings(units_url=units_url, prospects_url=closed_port_url, buyers_url=silent_url, read_timeout_seconds=1.5)
    async with serve(build(settings)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield client


async def test_project_and_unit_reach_units_service_when_agent_creates_them(gateway, login):
    agent = await login(gateway, "agent")
    created = await gateway.post("/api/v1/projects", json={"name": f"Brf Eken {uuid.uuid4().hex[:6]}"}, headers=agent)
    assert created.status_code == 201, created.text
    assert created.headers["content-type"] == "application/json"
    project = created.json()

    fetched = await gateway.get(f"/api/v1/projects/{project['id']}", headers=await login(gateway, "viewer"))
    assert fetched.status_code == 200
    assert (fetched.json()["id"], fetched.json()["name"]) == (project["id"], project["name"])

    unit = await gateway.post("/api/v1/units", json={"project_id": project["id"], "name": "A-1101", "rooms": 3}, headers=agent)
    assert unit.status_code == 201, unit.text
    history = await gateway.get(f"/api/v1/units/{unit.json()['id']}/history", headers=agent)
    assert history.status_code == 200
    assert [(h["to"], h["by"]) for h in history.json()["items"]] == [("available", "agent")]


async def test_query_and_errors_pass_through_unchanged_when_forwarded(gateway, login):
    agent = await login(gateway, "agent")
    listed = await gateway.get("/api/v1/units", params={"q": "no such unit å", "limit": 5}, headers=agent)
    assert listed.status_code == 200
    assert listed.json() == {"items": [], "total": 0}
    too_many = await gateway.get("/api/v1/units", params={"limit": 501}, headers=agent)
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["loc"] == ["query", "limit"]
    missing = await gateway.get(f"/api/v1/units/{uuid.uuid4()}", headers=agent)
    assert missing.status_code == 404
    assert "detail" in missing.json()
    bad_json = await gateway.post("/api/v1/projects", content=b"{oops", headers={**agent, "content-type": "application/json"})
    assert bad_json.status_code == 422


async def test_forged_user_header_is_replaced_when_client_sends_one(gateway, login):
    agent = await login(gateway, "agent")
    project = (await gateway.post("/api/v1/projects", json={"name": f"P {uuid.uuid4().hex[:6]}"}, headers=agent)).json()
    unit = await gateway.post(
        "/api/v1/units", json={"project_id": project["id"], "name": "B-1"}, headers={**agent, "X-Nyprod-User": "someone-else"}
    )
    history = await gateway.get(f"/api/v1/units/{unit.json()['id']}/history", headers=agent)
    assert history.json()["items"][0]["by"] == "agent"


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/", "/api/v2/units", "/api/v1/projectsX"])
async def test_path_is_not_found_when_not_in_the_api(gateway, login, path):
    response = await gateway.get(path, headers=await login(gateway, "agent"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"


async def test_body_is_refused_when_larger_than_one_megabyte(gateway, login):
    agent = await login(gateway, "agent")
    big = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    announced = await gateway.post("/api/v1/projects", content=big, headers={**agent, "content-type": "application/json"})
    assert announced.status_code == 413

    async def chunks():
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    # no Content-Length: the size is counted as it streams in
    streamed = await gateway.post("/api/v1/projects", content=chunks(), headers={**agent, "content-type": "application/json"})
    assert streamed.status_code == 413


async def test_answer_is_503_within_seconds_when_service_is_down(gateway, login):
    agent = await login(gateway, "agent")
    started = time.monotonic()
    response = await gateway.get("/api/v1/prospects", headers=agent)
    assert response.status_code == 503
    assert response.json() == {"detail": "the prospects service is unavailable"}
    assert time.monotonic() - started < 3


async def test_answer_is_503_within_seconds_when_service_does_not_answer(gateway, login):
    agent = await login(gateway, "agent")
    started = time.monotonic()
    response = await gateway.get("/api/v1/buyers", headers=agent)
    assert response.status_code == 503
    assert response.json() == {"detail": "the buyers service is unavailable"}
    assert time.monotonic() - started < 5


async def test_adding_buyer_goes_to_prospects_when_posted(gateway, login):
    # POST /buyers starts a booking, which the prospects service owns (down here)
    response = await gateway.post("/api/v1/buyers", json={"unit_id": str(uuid.uuid4())}, headers=await login(gateway, "agent"))
    assert response.json() == {"detail": "the prospects service is unavailable"}


async def test_ready_is_503_naming_services_when_they_are_down(gateway):
    response = await gateway.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"kafka": "ok", "database": "ok", "units": "ok", "prospects": "down", "buyers": "down"}
    assert "prospects" in body["detail"] and "buyers" in body["detail"]
    assert (await gateway.get("/healthz")).json() == {"status": "ok"}


async def test_ready_is_200_when_kafka_and_services_answer(units_url, make_settings, serve, build):
    # every service URL points at the real units service: each one's /readyz answers ready
    settings = make_settings(units_url=units_url, prospects_url=units_url, buyers_url=units_url)
    async with serve(build(settings)) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"
