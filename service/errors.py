"""The one JSON shape of every error the API returns, and the handlers that produce it.

    {"error": {"code": "too_long", "message": "items[2].text: ...", "field": "items[2].text",
               "limit": 5000, "details": [...]}}

``code`` is stable and machine-readable, ``message`` is for people (English, with the field,
what was expected and what was found), ``field`` names the offending field (``null`` when
the whole request is at fault), ``limit`` is the limit that was exceeded (or ``null``),
``details`` lists every problem of a request that had several. Input values are never
echoed back, no stack trace ever leaves the server, and no message shows an absolute path,
a database host or user, or a secret (``service.redact.public``).
"""
from __future__ import annotations

import logging
import traceback
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.redact import public
from triage.errors import TriageError
from triage.text import clean, mask

log = logging.getLogger("service")

MAX_DETAILS = 20
_JSON_TYPES = {"str": "a string", "int": "a number", "float": "a number", "bool": "true/false", "NoneType": "null",
               "dict": "an object", "list": "an array"}
_EXPECTED = {"string_type": "a string", "int_type": "an integer", "list_type": "an array",
             "model_type": "an object", "model_attributes_type": "an object", "dict_type": "an object",
             "bool_type": "true or false", "float_type": "a number"}


class ErrorItem(BaseModel):
    code: str = Field(description="machine-readable code / 错误代码", examples=["too_long"])
    message: str = Field(description="what was expected and what was found / 说明（期望值与实际值）",
                         examples=["items[2].text: at most 5000 characters, found 5210"])
    field: str | None = Field(None, description="the offending field, if any / 出错字段", examples=["items[2].text"])
    limit: int | None = Field(None, description="the limit exceeded, if any / 超出的限值", examples=[5000])


class ErrorBody(ErrorItem):
    details: list[ErrorItem] = Field(default_factory=list,
                                     description="every problem when there are several / 全部问题列表")


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    """An error the API reports on purpose, with its HTTP status."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, limit: int | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.limit = status, code, message, field, limit
        self.headers = headers


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body streams in, once it passes the cap (FastAPI lets HTTP errors through)."""

    def __init__(self, limit: int):
        super().__init__(413)
        self.limit = limit


def error_json(status: int, code: str, message: str, field=None, limit=None, details=(), headers=None) -> JSONResponse:
    """The one error shape; messages pass through ``redact.public`` (no path, host, user or secret)."""
    details = [{**d, "message": public(d["message"])} if "message" in d else d for d in details]
    body = {"error": {"code": code, "message": public(message), "field": field, "limit": limit, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


def too_large(limit: int) -> JSONResponse:
    return error_json(413, "body_too_large", f"request body is larger than {limit} bytes; send fewer or shorter "
                                             f"opinions per request", limit=limit)


# ----------------------------------------------------------------------------- validation
_TAGS = {"body", "one", "many", "str", "int", "float", "bool", "none", "list", "dict"}


def field_path(loc, keep_last: bool = False) -> str | None:
    """('body', 'many', 'items', 3, 'text') -> 'items[3].text'; the body and the union tags
    pydantic adds ('one', 'constrained-str', 'int'...) are dropped."""
    last = len(loc) - 1
    parts = [p for i, p in enumerate(loc) if isinstance(p, int) or (keep_last and i == last)
             or not (p in _TAGS or "-" in p or "[" in p)]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or None


# The fields a route accepts, named when an unknown one is sent.
EXPECTED_FIELDS = {"/v1/triage": "text, id, enterprise, deputy, intake_date (or items: a list of those)"}


def describe(err: dict, path: str = "") -> dict:
    """One pydantic error as an ErrorItem dict (the input value itself is never repeated)."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    loc = tuple(err.get("loc", ()))
    field = field_path(loc, keep_last=kind == "extra_forbidden")
    found = _JSON_TYPES.get(type(value).__name__, type(value).__name__)
    where = f"{field}: " if field else ""
    if kind == "json_invalid":
        pos = loc[1] if len(loc) > 1 else "?"
        return {"code": "malformed_json", "field": None, "limit": None,
                "message": f"request body is not valid JSON ({ctx.get('error', 'decode error')} at position {pos})"}
    if kind == "missing" and field is None:
        return {"code": "missing_body", "field": None, "limit": None,
                "message": "request body is missing: expected a JSON object"}
    if kind == "missing":
        return {"code": "missing_field", "field": field, "limit": None, "message": f"{where}required field is missing"}
    if kind == "extra_forbidden":
        return {"code": "unknown_field", "field": field, "limit": None,
                "message": f"{where}unknown field; expected {EXPECTED_FIELDS.get(path, 'the fields listed in /docs')}"}
    if kind == "string_too_long":
        n = ctx.get("max_length")
        return {"code": "too_long", "field": field, "limit": n,
                "message": f"{where}at most {n} characters, found {len(value) if isinstance(value, str) else '?'}"}
    if kind == "too_long":
        n = ctx.get("max_length")
        return {"code": "too_many_items", "field": field, "limit": n,
                "message": f"{where}at most {n} items per request, found {ctx.get('actual_length', '?')}; "
                           f"split the list"}
    if kind == "too_short":
        n = ctx.get("min_length")
        return {"code": "too_few_items", "field": field, "limit": n,
                "message": f"{where}at least {n} item{'s' if n != 1 else ''}, found {ctx.get('actual_length', 0)}"}
    if kind == "empty_text":
        return {"code": "empty_text", "field": field, "limit": None,
                "message": f"{where}the text is empty or only white space"}
    if kind == "bad_date":
        return {"code": "bad_date", "field": field, "limit": None,
                "message": f"{where}expected a date like 2025-06-25 (or 2025/6/25, 2025年6月25日, 20250625)"}
    if kind == "date_out_of_range":
        return {"code": "bad_date", "field": field, "limit": None,
                "message": f"{where}the date {ctx.get('day')} is out of range; expected a date from "
                           f"{ctx.get('first')} to {ctx.get('last')}"}
    if kind == "invalid_shape":
        return {"code": "wrong_type", "field": None, "limit": None,
                "message": f"request body: expected a JSON object (one opinion, or {{\"items\": [...]}}), found {found}"}
    if kind in _EXPECTED or kind.endswith("_type"):
        expected = _EXPECTED.get(kind, kind.removesuffix("_type"))
        return {"code": "wrong_type", "field": field, "limit": None, "message": f"{where}expected {expected}, found {found}",
                "_expected": expected, "_found": found}
    return {"code": "invalid_value", "field": field, "limit": None, "message": f"{where}{err.get('msg', 'invalid value')}"}


def merge_alternatives(items: list[dict]) -> list[dict]:
    """A value that fits none of a field's types gives one error per type: make it one,
    'id: expected a string or an integer, found a number'."""
    out: list[dict] = []
    for item in items:
        prev = out[-1] if out else None
        if prev and "_expected" in item and "_expected" in prev and prev["field"] == item["field"]:
            prev["_expected"] += f" or {item['_expected']}"
            where = f"{item['field']}: " if item["field"] else ""
            prev["message"] = f"{where}expected {prev['_expected']}, found {item['_found']}"
        else:
            out.append(item)
    return [{k: v for k, v in item.items() if not k.startswith("_")} for item in out]


# ------------------------------------------------------------------------------- handlers
async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    items = merge_alternatives([describe(e, request.url.path) for e in exc.errors()])
    first = items[0] if items else {"code": "invalid_value", "message": "invalid request", "field": None, "limit": None}
    log.info("422 %s %s: %s", request.method, clean(request.url.path),
             clean(", ".join(f"{i['code']}@{i['field']}" for i in items[:5])))  # a field name may be a number
    return error_json(422, first["code"], first["message"], first["field"], first["limit"], items[:MAX_DETAILS])


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if isinstance(exc, BodyTooLarge):
        return too_large(exc.limit)
    if exc.status_code == 404:
        return error_json(404, "not_found", "no such endpoint; see /docs for the list (or /openapi.json)")
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        return error_json(405, "method_not_allowed", f"{request.method} is not allowed here; allowed: {allowed}",
                          headers=exc.headers)
    if exc.status_code == 400 and exc.detail == _UNDECODABLE:  # FastAPI could not decode the JSON body
        why = _WHY.get(type(exc.__cause__), "it could not be decoded")
        item = {"code": "malformed_json", "message": f"request body is not valid JSON ({why})", "field": None,
                "limit": None}
        return error_json(422, **item, details=[item])
    detail = exc.detail if isinstance(exc.detail, str) else "request refused"
    return error_json(exc.status_code, f"http_{exc.status_code}", detail, headers=exc.headers)


_UNDECODABLE = "There was an error parsing the body"
_WHY = {UnicodeDecodeError: "it is not UTF-8 text", RecursionError: "it is nested too deeply"}


async def _api(request: Request, exc: ApiError) -> JSONResponse:
    return error_json(exc.status, exc.code, exc.message, exc.field, exc.limit, headers=exc.headers)


async def _triage(request: Request, exc: TriageError) -> JSONResponse:
    log.warning("422 %s %s: %s", request.method, clean(request.url.path), clean(str(exc)))
    return error_json(422, "invalid_input", clean(str(exc)))


def internal_error(exc: BaseException) -> JSONResponse:
    """500 for a bug: the client gets a reference, the log gets the masked trace under it."""
    ref = uuid.uuid4().hex[:12]
    trace = mask("".join(traceback.format_exception(exc)).rstrip())
    log.error("internal error %s: %s: %s\n%s", ref, type(exc).__name__, clean(str(exc)), trace)
    return error_json(500, "internal_error", f"internal error; it was logged under reference {ref}")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return internal_error(exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(TriageError, _triage)
    app.add_exception_handler(Exception, _unexpected)


# OpenAPI: the error responses each route documents.
def responses(*statuses: int) -> dict:
    text = {
        401: "missing or unknown API key / 缺少或无效的 API 密钥",
        403: "this key may not do this (reloading needs an admin key) / 该密钥无此权限（重新加载需管理员密钥）",
        409: "reload refused or already running; the old model stays / 重新加载被拒绝或正在进行，原模型继续服务",
        413: "request body too large / 请求体过大",
        415: "body is not JSON / 请求体不是 JSON",
        422: "invalid input: the field and the limit are named / 输入无效：指明字段与限值",
        503: "model not loaded yet / 模型尚未加载完成",
    }
    return {s: {"model": ErrorResponse, "description": text[s]} for s in statuses}
