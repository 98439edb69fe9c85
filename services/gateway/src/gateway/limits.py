"""Refuses request bodies over the limit (413) before any route sees them, whether the client
announced the size (Content-Length) or streams it in chunks."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        # Read the body up to the limit now (it is small by then), and hand it to the app as
        # it came; afterwards the app reads the client's own channel (to hear a disconnect).
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        # No "Connection: close": the server then reads and drops the rest of the body, so a
        # client that sends it all before reading (most do) still gets this answer.
        response = JSONResponse({"detail": f"the request body is larger than {self.max_bytes} bytes"}, status_code=413)
        await response(scope, receive, send)
