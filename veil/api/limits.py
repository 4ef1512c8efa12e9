"""Request size limits and request ids, as plain ASGI middleware.

Bodies are counted as they arrive, so a client that lies about Content-Length or sends a
chunked body is stopped at the limit too.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from veil.api.problems import problem

DEFAULT_LIMIT = 64 * 1024  # JSON requests are a few hundred bytes
REQUEST_ID = b"x-request-id"


class _TooLarge(Exception):
    pass


class BodyLimit:
    def __init__(
        self, app: ASGIApp, limits: Mapping[str, int], default: int = DEFAULT_LIMIT
    ) -> None:
        self.app, self.limits, self.default = app, dict(limits), default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default)
        request_id = uuid.uuid4().hex.encode()
        scope.setdefault("state", {})["request_id"] = request_id.decode()
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, limit)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        async def tagged(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (REQUEST_ID, request_id)]
            await send(message)

        try:
            await self.app(scope, counted, tagged)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, tagged, limit)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        if str(scope["path"]).startswith("/api/"):
            response = problem(
                413, "Request body too large", f"This route accepts at most {limit} bytes."
            )
        else:  # a page's form: a page a person can read, in both languages
            response = HTMLResponse(_TOO_LARGE_PAGE.format(mib=limit / 2**20), status_code=413)
        await response(scope, receive, send)


# Outside the pages' templates on purpose: the body was refused before any page code ran.
_TOO_LARGE_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>提交的内容过大 · Too large</title></head>
<body><main>
<h1>提交的内容过大</h1>
<p>此处最多接受 {mib:.4g} MiB。请返回并选择较小的文件；未存储或查询任何内容。</p>
<h2 lang="en">Too large</h2>
<p lang="en">This form accepts at most {mib:.4g} MiB. Go back and choose a smaller file;
nothing was stored or looked up.</p>
<p><a href="/">首页 · Home</a></p>
</main></body></html>"""
