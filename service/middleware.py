"""The outer guard of every request (plain ASGI, no body buffering):

- a body larger than the cap is refused with 413 *before* it is parsed: at once from its
  Content-Length, or as soon as the streamed bytes pass the cap (chunked uploads);
- a body that is not declared as JSON is refused with 415;
- an unexpected exception becomes a 500 in the documented error shape (no stack trace to
  the client; a masked one, with a reference, in the log);
- one log line per request: method, masked path, status, milliseconds, client key label,
  number of opinions; a key sent in the query string (``?api_key=...``, any parameter named
  like a key or token) or anywhere in the path is written ``[hidden]``.
"""
from __future__ import annotations

import logging
import time

from triage.text import clean

from service.errors import BodyTooLarge, error_json, internal_error, too_large
from service.redact import HIDDEN, hide_secrets

log = logging.getLogger("service")
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class RequestGuard:
    def __init__(self, app, limit: int, secrets: tuple = ()):
        self.app = app
        self.limit = limit
        self._secrets = tuple(s.get_secret_value() if hasattr(s, "get_secret_value") else s for s in secrets)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        state = {"status": None}

        async def send_logged(message):
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send_logged)
                return
            await self.app(scope, self._counting(receive), send_logged)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if state["status"] is None:
                await internal_error(exc)(scope, receive, send_logged)
            else:  # the response had started: nothing more can be sent
                log.error("error after the response started: %s", clean(f"{type(exc).__name__}: {exc}"))
        finally:
            self._log(scope, state["status"], time.perf_counter() - start)

    def _refusal(self, scope):
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                return error_json(400, "bad_content_length", "Content-Length must be a whole number of bytes",
                                  field="Content-Length")
            if int(length) > self.limit:
                return too_large(self.limit)
        has_body = (length is not None and int(length) > 0) or "transfer-encoding" in headers
        if scope["method"] in _BODY_METHODS and has_body and not _is_json(headers.get("content-type", "")):
            found = headers.get("content-type") or "none"
            return error_json(415, "unsupported_media_type",
                              f"expected Content-Type application/json, found {clean(found)[:80]}",
                              field="Content-Type")
        return None

    def _counting(self, receive):
        seen = 0
        limit = self.limit

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        return counted

    def _log(self, scope, status, seconds):
        st = scope.get("state") or {}
        path = scope.get("path", "")
        query = scope.get("query_string", b"").decode("latin-1")
        shown = hide_secrets(path + ("?" + query if query else ""))
        for secret in self._secrets:  # a configured key pasted anywhere in the URL
            shown = shown.replace(secret, HIDDEN)
        shown = clean(shown)[:200]
        log.info("%s %s %s %.1fms client=%s items=%s", scope.get("method"), shown, status, seconds * 1000,
                 st.get("client", "-"), st.get("items", "-"))
