"""One OpenAPI document for the whole API: the gateway's own routes plus the operations each
service documents for the paths the gateway routes to it, and the docs page that shows it."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from .domain import API_PREFIX, owning_service
from .proxy import Upstream, UpstreamError

log = logging.getLogger(__name__)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SECURITY_SCHEME = "bearer"
PUBLIC_OPERATIONS = {("post", f"{API_PREFIX}/auth/token")}
_SCHEMA_REF = "#/components/schemas/"

DOCS_ASSETS_URL = "/docs/assets"
# Swagger UI's files as a package ships them: this must work without reaching a CDN
DOCS_ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"


def custom_generate_unique_id(route: APIRoute) -> str:
    """Readable operation ids (and so client function names): ``<tag>-<function name>``."""
    tag = route.tags[0] if route.tags else "gateway"
    return f"{tag}-{route.name}"


# ---- merging (pure) -------------------------------------------------------------------------


def merge(own: Mapping[str, Any], services: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The gateway's document with each service's operations added where the gateway routes
    them to that service. Schema names that clash with a different schema get the service's
    name as prefix (and the references to them follow)."""
    doc = copy.deepcopy(dict(own))
    paths: dict[str, Any] = doc.setdefault("paths", {})
    components = doc.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    tags = {t["name"]: t for t in doc.get("tags", [])}
    operation_ids = {op.get("operationId") for item in paths.values() for m, op in item.items() if m in HTTP_METHODS}

    for service, service_doc in services.items():
        service_doc = copy.deepcopy(dict(service_doc))
        theirs: dict[str, Any] = service_doc.get("components", {}).get("schemas", {})
        renames = _clashing_schemas(schemas, theirs, service)
        if renames:
            service_doc = _rename_refs(service_doc, renames)
        for name, schema in service_doc.get("components", {}).get("schemas", {}).items():
            schemas.setdefault(renames.get(name, name), schema)
        for path, item in service_doc.get("paths", {}).items():
            for method, operation in item.items():
                if method not in HTTP_METHODS or owning_service(method, path) != service:
                    continue
                if path in paths and method in paths[path]:
                    continue  # the gateway's own route wins
                op_id = operation.get("operationId")
                if op_id in operation_ids:
                    operation["operationId"] = f"{service}-{op_id}"
                operation_ids.add(operation.get("operationId"))
                target = paths.setdefault(path, {})
                if "parameters" in item and "parameters" not in target:
                    target["parameters"] = item["parameters"]
                target[method] = operation
        for tag in service_doc.get("tags", []):
            tags.setdefault(tag["name"], tag)

    if tags:
        doc["tags"] = list(tags.values())
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "a token from POST /api/v1/auth/token",
    }
    for path, item in paths.items():
        if not path.startswith(API_PREFIX + "/"):
            continue
        for method, operation in item.items():
            if method in HTTP_METHODS and (method, path) not in PUBLIC_OPERATIONS:
                operation["security"] = [{SECURITY_SCHEME: []}]
    doc["paths"] = dict(sorted(paths.items()))
    return doc


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_SCHEMA_REF):
            found.add(ref[len(_SCHEMA_REF) :])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _clashing_schemas(ours: Mapping[str, Any], theirs: Mapping[str, Any], service: str) -> dict[str, str]:
    """Their schema names that must be renamed: taken by a different schema, or referring to a
    renamed one. Identical schemas (the validation error shapes, say) are shared."""
    renamed: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, schema in theirs.items():
            if name in renamed or name not in ours:
                continue
            if ours[name] != schema or _refs(schema) & renamed:
                renamed.add(name)
                changed = True
    out: dict[str, str] = {}
    for name in renamed:
        new = f"{service}_{name}"
        while new in ours or new in theirs:
            new = f"{service}_{new}"
        out[name] = new
    return out


def _rename_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_SCHEMA_REF):
                name = value[len(_SCHEMA_REF) :]
                out[key] = _SCHEMA_REF + renames.get(name, name)
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


# ---- the services' documents ----------------------------------------------------------------


class ApiDocs:
    """Caches each service's /openapi.json and the merged document."""

    def __init__(self, own: Callable[[], dict[str, Any]], service_urls: Mapping[str, str]) -> None:
        self._own = own
        self._urls = dict(service_urls)
        self._docs: dict[str, dict[str, Any]] = {}
        self._merged: dict[str, Any] | None = None
        self._told_missing: set[str] = set()

    @property
    def missing(self) -> list[str]:
        return [name for name in self._urls if name not in self._docs]

    def document(self) -> dict[str, Any]:
        if self._merged is None:
            self._merged = merge(self._own(), {n: self._docs[n] for n in self._urls if n in self._docs})
        return self._merged

    async def refresh(self, client: Upstream, names: list[str] | None = None) -> None:
        names = names if names is not None else list(self._urls)
        results = await asyncio.gather(*(self._fetch(client, n) for n in names))
        for name, doc in zip(names, results, strict=True):
            if doc is not None and doc != self._docs.get(name):
                self._docs[name] = doc
                self._merged = None

    async def _fetch(self, client: Upstream, name: str) -> dict[str, Any] | None:
        try:
            response = await client.get(f"{self._urls[name]}/openapi.json", timeout=5.0)
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}")
            doc = response.json()
            return doc if isinstance(doc, dict) and "paths" in doc else None
        except (*UpstreamError, ValueError) as exc:
            # said once per service: the retry loop asks every few seconds until it answers
            level = logging.DEBUG if name in self._told_missing else logging.INFO
            self._told_missing.add(name)
            log.log(level, "no OpenAPI document from the %s service yet: %s", name, type(exc).__name__)
            return None

    async def keep_fresh(self, client: Upstream, retry_seconds: float, refresh_seconds: float) -> None:
        """Fetch now; retry soon while a service is missing, refresh now and then otherwise
        (a redeployed service may document new operations)."""
        while True:
            await self.refresh(client, self.missing or None)
            await asyncio.sleep(retry_seconds if self.missing else refresh_seconds)


def install_docs(app: FastAPI, docs: ApiDocs) -> None:
    """/openapi.json serves the merged document; /docs shows it with locally served assets."""
    app.openapi = docs.document  # type: ignore[method-assign]
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
        )
