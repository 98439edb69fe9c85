"""One OpenAPI document for the whole API, docs that load without a CDN, and the web client."""

from __future__ import annotations

import re

import httpx
import pytest

from nyprod_kit.testing import wait_until


@pytest.fixture(scope="module")
async def gateway(units_url, make_settings, serve, build, tmp_path_factory):
    web = tmp_path_factory.mktemp("web")
    (web / "index.html").write_text("<!doctype html><title>Nyprod</title><div id=app></div>")
    (web / "app.js").write_text("console.log('nyprod')")
    settings = make_settings(units_url=units_url, web_dir=web)
    async with serve(build(settings)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield client


async def test_openapi_holds_services_paths_when_they_answer(gateway):
    async def merged() -> dict | None:
        doc = (await gateway.get("/openapi.json")).json()
        return doc if "/api/v1/units/{unit_id}/history" in doc["paths"] else None

    doc = await wait_until(merged, timeout=20, message="the units service's paths in /openapi.json")
    paths = doc["paths"]
    for path in ("/api/v1/projects", "/api/v1/units", "/api/v1/auth/token", "/api/v1/users", "/api/v1/stream", "/readyz"):
        assert path in paths, path
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert paths["/api/v1/units"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in paths["/api/v1/auth/token"]["post"]
    assert "security" not in paths["/readyz"]["get"]
    assert paths["/api/v1/auth/token"]["post"]["operationId"] == "auth-issue_token"
    # the units service's schemas came along, and every reference resolves
    schemas = doc["components"]["schemas"]
    assert "UnitOut" in schemas and "UserOut" in schemas
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', (await gateway.get("/openapi.json")).text))
    assert refs <= set(schemas)


async def test_docs_load_their_assets_from_the_gateway_when_opened(gateway):
    page = await gateway.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served by the gateway"
        response = await gateway.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 1000, asset


async def test_web_client_is_served_when_it_has_an_index(gateway):
    home = await gateway.get("/")
    assert home.status_code == 200
    assert "<title>Nyprod</title>" in home.text
    assert (await gateway.get("/app.js")).text == "console.log('nyprod')"
    # a client page path after a reload gets the client; a missing file does not
    assert "<title>Nyprod</title>" in (await gateway.get("/units/123")).text
    assert (await gateway.get("/missing.js")).status_code == 404
    # the API, the docs and the health checks are not shadowed
    assert (await gateway.get("/api/v1/units")).status_code == 401
    assert (await gateway.get("/api/v2/anything")).status_code == 404
    assert (await gateway.get("/healthz")).json() == {"status": "ok"}
    assert "swagger-ui" in (await gateway.get("/docs")).text
