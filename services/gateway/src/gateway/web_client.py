"""Serves the web client's files at /, with index.html for the client's own page paths."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


class WebClientFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            # a page path of the client (say /units/123 after a reload) gets the client itself;
            # API paths and missing files (a name with a suffix) stay 404
            if exc.status_code != 404 or path.startswith("api") or Path(path).suffix:
                raise
            return await super().get_response("index.html", scope)


def mount_web_client(app: FastAPI, web_dir: Path) -> bool:
    """Mount last, so it never shadows the API, the docs or the health checks."""
    if not (web_dir / "index.html").is_file():
        return False
    app.mount("/", WebClientFiles(directory=web_dir, html=True), name="web")
    return True
