"""Local mode makes trying it easy; outside local mode start-up refuses unsafe defaults."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from gateway.handlers import StartupRefused
from gateway.settings import LOCAL_SECRET_KEY
from nyprod_kit.testing import kafka_bootstrap, running, sqlite_url

GOOD_SECRET = "a-deployment-secret-that-is-long-enough-0123456789"


async def token_status(client, username: str, password: str) -> int:
    return (await client.post("/api/v1/auth/token", json={"username": username, "password": password})).status_code


async def test_demo_users_exist_when_in_local_mode(make_settings, build):
    async with running(build(make_settings(local_mode=True, secret_key=LOCAL_SECRET_KEY))) as client:
        for name in ("admin", "agent", "viewer"):
            response = await client.post("/api/v1/auth/token", json={"username": name, "password": name})
            assert response.status_code == 200
            assert response.json()["role"] == name


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"secret_key": LOCAL_SECRET_KEY}, "GATEWAY_SECRET_KEY is not set"),
        ({"secret_key": ""}, "GATEWAY_SECRET_KEY is not set"),
        ({"secret_key": "too-short"}, "GATEWAY_SECRET_KEY is too short"),
        ({"secret_key": GOOD_SECRET}, "no admin user exists"),
        ({"secret_key": GOOD_SECRET, "admin_password": "admin"}, "GATEWAY_ADMIN_PASSWORD is refused"),
        ({"secret_key": GOOD_SECRET, "admin_password": "short"}, "GATEWAY_ADMIN_PASSWORD is refused"),
    ],
)
async def test_start_is_refused_when_defaults_are_kept_outside_local_mode(make_settings, build, overrides, complaint):
    app = build(make_settings(local_mode=False, **overrides))
    with pytest.raises(StartupRefused, match=complaint):
        async with running(app):
            pass


async def test_first_admin_is_created_when_admin_password_is_given_outside_local_mode(make_settings, build):
    settings = make_settings(local_mode=False, secret_key=GOOD_SECRET, admin_password="correct horse battery")
    async with running(build(settings)) as client:
        assert await token_status(client, "admin", "correct horse battery") == 200
        assert await token_status(client, "admin", "admin") == 401
        assert await token_status(client, "agent", "agent") == 401
    # once an admin exists the password is no longer needed (nor used)
    again = settings.model_copy(update={"admin_password": None})
    async with running(build(again)) as client:
        assert await token_status(client, "admin", "correct horse battery") == 200


async def run_gateway_process(tmp_path, **env: str) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    clean.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap(),
            "GATEWAY_DATABASE_URL": sqlite_url(tmp_path, "gateway"),
            "GATEWAY_PORT": "1",  # never reached: these runs must stop before serving
            **env,
        }
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", env=clean, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=90)
    return process.returncode, stderr.decode()


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"GATEWAY_LOCAL_MODE": "false"}, "GATEWAY_SECRET_KEY is not set"),
        ({"GATEWAY_LOCAL_MODE": "false", "GATEWAY_SECRET_KEY": GOOD_SECRET}, "no admin user exists"),
    ],
)
async def test_process_exits_with_one_line_when_defaults_are_kept_outside_local_mode(tmp_path, env, complaint):
    code, stderr = await run_gateway_process(tmp_path, **env)
    assert code == 1
    lines = [line for line in stderr.splitlines() if line.strip() and " INFO " not in line]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("gateway: ")
    assert complaint in lines[0]
    assert "Traceback" not in stderr
