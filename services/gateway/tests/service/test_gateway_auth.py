"""Logging in, tokens, roles and user management, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from gateway.domain import Role
from gateway.security import TokenClaims, issue_token
from nyprod_kit.testing import fresh_database

SECRET = "gateway-tests-secret-key-0123456789abcdef"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def client(request, tmp_path_factory, make_settings, serve, build):
    async with fresh_database(request.param, tmp_path_factory.mktemp("users"), prefix="gw") as url:
        async with serve(build(make_settings(database_url=url, secret_key=SECRET, token_ttl_seconds=600))) as base:
            async with httpx.AsyncClient(base_url=base, timeout=10) as c:
                yield c


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_token_is_issued_when_password_is_right(client):
    response = await client.post("/api/v1/auth/token", json={"username": "admin", "password": "admin"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert (body["username"], body["role"]) == ("admin", "admin")
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"], options={"verify_iss": False})
    assert claims["sub"] == "admin"
    assert claims["exp"] - claims["iat"] == 600


@pytest.mark.parametrize(
    ("username", "password"), [("admin", "wrong"), ("nobody-here", "admin"), ("ad\x00min", "admin"), ("ad min", "admin"), ("agent", "")]
)
async def test_token_is_refused_when_credentials_are_wrong(client, username, password):
    response = await client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code in (401, 422)
    if password:
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    else:
        assert response.json()["detail"][0]["loc"] == ["body", "password"]


@pytest.mark.parametrize("path", ["/api/v1/auth/me", "/api/v1/units", "/api/v1/users", "/api/v1/stream"])
async def test_call_is_refused_when_no_token_is_sent(client, path):
    response = await client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_call_is_refused_when_token_has_expired(client):
    past = datetime.now(UTC) - timedelta(hours=9)
    token = issue_token(TokenClaims("admin", Role.ADMIN, 1), secret_key=SECRET, ttl_seconds=8 * 3600, now=past)
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "invalid_token" in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "token",
    [
        issue_token(TokenClaims("admin", Role.ADMIN, 1), secret_key="another-key-that-is-32-characters-long", ttl_seconds=60),
        "not-a-jwt",
        jwt.encode({"sub": "admin", "role": "admin", "ver": 1}, SECRET, algorithm="HS256"),  # no expiry
    ],
)
async def test_call_is_refused_when_token_is_not_ours(client, token):
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_me_tells_who_is_logged_in_when_token_is_valid(client, login):
    response = await client.get("/api/v1/auth/me", headers=await login(client, "agent"))
    assert response.json() == {"username": "agent", "role": "agent"}


async def test_viewer_is_forbidden_when_changing_data(client, login):
    viewer = await login(client, "viewer")
    assert (await client.post("/api/v1/projects", json={"name": "x"}, headers=viewer)).status_code == 403
    assert (await client.delete("/api/v1/prospects/" + str(uuid.uuid4()), headers=viewer)).status_code == 403
    assert (await client.get("/api/v1/users", headers=viewer)).status_code == 403


async def test_agent_is_forbidden_when_managing_users(client, login):
    agent = await login(client, "agent")
    assert (await client.get("/api/v1/users", headers=agent)).status_code == 403
    response = await client.post("/api/v1/users", json={"username": unique("x"), "password": "long enough", "role": "admin"}, headers=agent)
    assert response.status_code == 403


async def test_admin_manages_users_when_logged_in_as_admin(client, login):
    admin = await login(client, "admin")
    name = unique("Anna.S")
    created = await client.post("/api/v1/users", json={"username": name, "password": "first password", "role": "agent"}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["username"] == name.lower()
    assert created.json()["role"] == "agent"

    listed = await client.get("/api/v1/users", params={"limit": 500}, headers=admin)
    assert name.lower() in [u["username"] for u in listed.json()["items"]]
    assert listed.json()["total"] >= 4

    anna = await login(client, name, "first password")
    assert (await client.get("/api/v1/auth/me", headers=anna)).json()["role"] == "agent"

    demoted = await client.patch(f"/api/v1/users/{name}", json={"role": "viewer"}, headers=admin)
    assert demoted.json()["role"] == "viewer"
    assert (await client.get("/api/v1/auth/me", headers=anna)).status_code == 401  # her old token ended

    changed = await client.patch(f"/api/v1/users/{name}", json={"password": "second password"}, headers=admin)
    assert changed.status_code == 200
    refused = await client.post("/api/v1/auth/token", json={"username": name, "password": "first password"})
    assert refused.status_code == 401
    anna = await login(client, name, "second password")
    assert (await client.get("/api/v1/auth/me", headers=anna)).json()["role"] == "viewer"

    assert (await client.delete(f"/api/v1/users/{name}", headers=admin)).status_code == 204
    assert (await client.get(f"/api/v1/users/{name}", headers=admin)).status_code == 404
    assert (await client.get("/api/v1/auth/me", headers=anna)).status_code == 401


async def test_user_is_refused_when_input_is_invalid(client, login):
    admin = await login(client, "admin")
    short = await client.post("/api/v1/users", json={"username": unique("u"), "password": "short", "role": "agent"}, headers=admin)
    assert short.status_code == 422
    assert short.json()["detail"][0]["loc"] == ["body", "password"]
    bad_role = await client.post("/api/v1/users", json={"username": unique("u"), "password": "long enough", "role": "boss"}, headers=admin)
    assert bad_role.status_code == 422
    assert bad_role.json()["detail"][0]["loc"] == ["body", "role"]
    assert (await client.patch("/api/v1/users/nobody-at-all", json={"role": "agent"}, headers=admin)).status_code == 404
    assert (await client.get("/api/v1/users/bad%00name", headers=admin)).status_code == 422


async def test_user_is_refused_when_name_is_taken(client, login):
    admin = await login(client, "admin")
    body = {"username": unique("dup"), "password": "long enough", "role": "agent"}
    assert (await client.post("/api/v1/users", json=body, headers=admin)).status_code == 201
    again = await client.post("/api/v1/users", json={**body, "username": body["username"].upper()}, headers=admin)
    assert again.status_code == 409
    assert again.json()["reason"] == "username_taken"


async def test_last_admin_is_kept_when_demoting_or_deleting_it(client, login):
    admin = await login(client, "admin")
    demote = await client.patch("/api/v1/users/admin", json={"role": "agent"}, headers=admin)
    assert demote.status_code == 409
    assert demote.json()["reason"] == "last_admin"
    assert (await client.delete("/api/v1/users/admin", headers=admin)).json()["reason"] == "last_admin"

    boss = unique("boss")
    await client.post("/api/v1/users", json={"username": boss, "password": "long enough", "role": "admin"}, headers=admin)
    assert (await client.delete(f"/api/v1/users/{boss}", headers=admin)).status_code == 204
