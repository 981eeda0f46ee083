"""Security review of the station API, as tests:

- API keys are compared in constant time: the accept/refuse decision on every route is the
  one ``hmac.compare_digest`` makes, against every configured key, and no key is compared
  with ``==`` or ``in`` anywhere in service/;
- no key and no personal data (mobile numbers, ID-card numbers) in any log line, on success
  and on every error path, in process and in the log of a real ``triage serve``;
- the request body is capped before it is parsed: a huge body with a lying or missing
  Content-Length is refused with 413 after reading at most the cap plus one chunk;
- /docs, /redoc and /openapi.json are open (they hold no data) unless switched off, every
  /v1 route needs a key and every /v1/admin route an admin key, as the service documents;
- every dependency in pyproject.toml has a lower bound.
"""
import ast
import hmac
import json
import logging
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import tomllib

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ROOT, SERVICE_ADMIN_KEY, SERVICE_KEY

PHONE, ID_NUMBER = "13812345678", "110101199003071234"
WRONG_KEY = "wrong-key-" + PHONE
KEY = {"X-API-Key": SERVICE_KEY}
ADMIN = {"X-API-Key": SERVICE_ADMIN_KEY}
JSON = {"Content-Type": "application/json"}
CLIENT_LOGGERS = ("httpx", "httpcore", "hpack")  # the test's own HTTP client, not the service


def served_routes(app):
    """(path, methods) of every route the app serves, walking into included routers
    (FastAPI >= 0.16x keeps them as ``_IncludedRouter`` wrappers with their own prefix)."""
    def walk(routes, prefix=""):
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                yield from walk(inner.routes, prefix + (getattr(route.include_context, "prefix", "") or ""))
            elif hasattr(route, "methods"):
                yield prefix + route.path, route.methods or set()
    return list(walk(app.routes))


def v1_routes(app):
    """(method, path with {params} filled) of every /v1 route the app serves."""
    return [(method, re.sub(r"\{[^}]+\}", "1", path)) for path, methods in served_routes(app)
            if path.startswith("/v1") for method in sorted(methods) if method != "HEAD"]


# ------------------------------------------------------------------------ constant time
@pytest.mark.parametrize("verdict, sent, status", [(False, SERVICE_KEY, 401), (True, WRONG_KEY, 200)])
def test_the_key_decision_is_the_one_compare_digest_makes(service_app, monkeypatch, verdict, sent, status):
    """With compare_digest forced to say no, the right key is refused; forced to say yes, a
    wrong key gets in: nothing else decides."""
    seen = []

    def forced(a, b):
        seen.append((a, b))
        return verdict

    monkeypatch.setattr(hmac, "compare_digest", forced)
    with TestClient(service_app()) as c:
        assert c.get("/v1/taxonomy", headers={"X-API-Key": sent}).status_code == status
    assert sorted(b for _, b in seen) == sorted([SERVICE_KEY.encode(), SERVICE_ADMIN_KEY.encode()])
    assert {a for a, _ in seen} == {sent.encode()}


def test_every_v1_route_compares_the_key_with_every_configured_key(service_app, monkeypatch):
    keys = ("intake-form-key-000000001", "message-board-key-0000002")
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(b) or real(a, b))
    app = service_app(api_keys=keys)
    routes = v1_routes(app)
    assert ("POST", "/v1/admin/reload") in routes and ("POST", "/v1/suggestions/1/rate") in routes
    with TestClient(app, raise_server_exceptions=False) as c:
        for method, path in routes:
            for key in (keys[1], WRONG_KEY):
                calls.clear()
                r = c.request(method, path, headers={"X-API-Key": key, **JSON}, content=b"{}")
                assert r.status_code not in (500,), (method, path, r.text)
                assert sorted(calls) == sorted(k.encode() for k in (*keys, SERVICE_ADMIN_KEY)), (method, path)


def test_no_key_is_compared_with_equality_or_membership_in_service():
    """Static check of service/*.py: no ==, !=, in or not in with a key on either side."""
    keyish = re.compile(r"key|given|token|secret", re.I)

    def names(node):
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | \
               {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}

    found = []
    for path in sorted((ROOT / "service").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn))
                                                     for op in node.ops):
                operands = [node.left, *node.comparators]
                if any(keyish.search(name) for o in operands for name in names(o)):
                    found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert found == []


# ------------------------------------------------------------------------------- logs
def leaks(text: str) -> list[str]:
    digits = re.sub(r"(?<=\d)[ -](?=\d)", "", text)
    found = [s for s in (PHONE, ID_NUMBER) if s in digits]
    return found + [k for k in (SERVICE_KEY, SERVICE_ADMIN_KEY, WRONG_KEY) if k in text]


def send_everything(c):
    """Requests carrying a mobile and an ID number (and keys) down every path: success and
    each kind of error. Returns the responses."""
    pd = f"联系电话{PHONE}，身份证{ID_NUMBER}"
    rs = [
        c.post("/v1/triage", json={"id": PHONE, "text": "园区路灯坏了" + pd, "deputy": f"周建华{PHONE}",
                                   "enterprise": ID_NUMBER, "intake_date": "2025-06-25"}, headers=KEY),
        c.post("/v1/triage", json={"items": [{"text": pd * 400}]}, headers=KEY),  # too long
        c.post("/v1/triage", json={"text": pd, "intake_date": ID_NUMBER}, headers=KEY),  # bad date
        c.post("/v1/triage", json={"text": pd, PHONE: ID_NUMBER}, headers=KEY),  # unknown field named by a number
        c.post("/v1/triage", json={"items": [{PHONE: 1}]}, headers=KEY),
        c.post("/v1/triage", content=f'{{"text": "{pd}'.encode(), headers={**KEY, **JSON}),  # malformed
        c.post("/v1/triage", content=pd.encode(), headers={**KEY, "Content-Type": f"text/{PHONE}"}),  # 415
        c.post("/v1/triage", json={"text": pd}, headers={"X-API-Key": WRONG_KEY}),  # 401
        c.post("/v1/triage", json={"text": pd}),
        c.get(f"/v1/lookup/{ID_NUMBER}?tel={PHONE}&id={ID_NUMBER}", headers=KEY),  # 404
        c.get(f"/v1/suggestions/{ID_NUMBER}", headers=KEY),  # register 404 naming the ref
        c.get("/v1/suggestions", params={"deputy": PHONE, "agency": ID_NUMBER}, headers=KEY),
        c.post("/v1/suggestions", json={"problems": [{"text": pd, "category": "tax"}], "kind": PHONE,
                                        "actor": ID_NUMBER}, headers=KEY),  # 422 kind
        c.post("/v1/suggestions", json={"problems": [{"text": pd, "category": "tax", "tier": "transfer",
                                                      "enterprises": [PHONE], "opinion_ids": [ID_NUMBER]}],
                                        "actor": f"王站长{PHONE}"}, headers=KEY),  # 201
        c.post("/v1/suggestions/1/rate", json={"version": 1, "satisfaction": PHONE, "note": pd}, headers=KEY),
        c.post("/v1/suggestions/1/progress", json={"version": 9, "note": pd}, headers=KEY),  # 409
        c.post("/v1/admin/reload", headers=KEY),  # 403
        c.post("/v1/admin/reload", headers=ADMIN),
    ]
    return rs


@pytest.fixture
def register_app(service_app, tmp_path):
    from triage.register import Register, init_register

    url = f"sqlite:///{tmp_path / 'register.db'}"
    init_register(url)
    app = service_app()
    app.state.register = Register(url)
    yield app
    app.state.register.close()


def test_no_key_and_no_personal_number_reaches_any_log_record(register_app, monkeypatch, caplog):
    """The raw records, before any masking filter of a handler: every logger, every level."""
    with caplog.at_level(logging.DEBUG):
        with TestClient(register_app, raise_server_exceptions=False) as c:
            responses = send_everything(c)

            def broken(*args):
                raise RuntimeError(f"cannot handle {args[0][0]} {PHONE} {ID_NUMBER}")

            monkeypatch.setattr(register_app.state.holder.get(), "predict_batch", broken)  # the reloaded one
            responses.append(c.post("/v1/triage", json={"text": f"电话{PHONE}"}, headers=KEY))  # 500
    statuses = [r.status_code for r in responses]
    assert statuses == [200, 422, 422, 422, 422, 422, 415, 401, 401, 404, 404, 200, 422, 201, 422, 409, 403, 200, 500]
    records = [r for r in caplog.records if not r.name.startswith(CLIENT_LOGGERS)]
    assert sum(r.name == "service" for r in records) >= len(statuses)  # one line per request at least
    rendered = "\n".join(logging.Formatter("%(name)s %(message)s").format(r) for r in records)
    assert "Traceback" in rendered and "[手机号]" in rendered  # the 500 was logged, masked
    assert leaks(rendered) == []
    for r in responses:  # and no answer repeats a key
        assert not {SERVICE_KEY, SERVICE_ADMIN_KEY, WRONG_KEY} & set(re.findall(r"[\w-]{16,}", r.text))


# ------------------------------------------------------------------------- body cap
def asgi_post(app, headers: dict, chunks: int, size: int = 65536):
    """POST /v1/triage straight through ASGI with a body of ``chunks`` x ``size`` bytes that
    the receiver hands out one chunk at a time; returns (status, body, bytes handed out)."""
    import anyio

    pulled, sent = 0, {"status": None, "body": b""}
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1/triage", "raw_path": b"/v1/triage", "query_string": b"", "root_path": "",
             "headers": raw, "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000), "state": {}}
    count = iter(range(chunks))

    async def receive():
        nonlocal pulled
        i = next(count, None)
        if i is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += size
        return {"type": "http.request", "body": b"x" * size, "more_body": i < chunks - 1}

    async def send(message):
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
        elif message["type"] == "http.response.body":
            sent["body"] += message.get("body", b"")

    anyio.run(app, scope, receive, send)
    return sent["status"], json.loads(sent["body"]), pulled


@pytest.mark.parametrize("length", ["100", None], ids=["lying Content-Length", "no Content-Length"])
def test_a_huge_body_is_refused_after_reading_at_most_the_cap(service_app, shipped, monkeypatch, length):
    called = []
    monkeypatch.setattr(shipped, "predict_batch", lambda *a: called.append(1))
    app = service_app(max_body_bytes=4096)
    headers = {**KEY, **JSON, **({"Content-Length": length} if length else {"Transfer-Encoding": "chunked"})}
    status, body, pulled = asgi_post(app, headers, chunks=160)  # 10 MB offered
    assert status == 413 and body["error"]["code"] == "body_too_large" and body["error"]["limit"] == 4096
    assert pulled <= 4096 + 65536  # the cap plus the chunk that crossed it, not 10 MB
    assert called == []


def test_a_declared_length_over_the_cap_is_refused_before_a_byte_is_read(service_app):
    status, body, pulled = asgi_post(service_app(max_body_bytes=4096), {**KEY, **JSON, "Content-Length": "10" * 6},
                                     chunks=160)
    assert (status, body["error"]["code"], pulled) == (413, "body_too_large", 0)


# ------------------------------------------------------------- docs and admin routes
def test_routes_are_protected_as_documented(service_app):
    from service.app import DESCRIPTION

    assert "`/healthz`, `/readyz`\nand these docs are open" in DESCRIPTION
    assert "`/v1/admin/reload` needs an admin key" in DESCRIPTION
    app = service_app()
    open_paths = {path for path, _ in served_routes(app) if not path.startswith("/v1")}
    assert open_paths == {"/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
    assert [r.path for r in app.routes if type(r).__name__ == "Mount"] == ["/docs/assets"]  # static files only
    with TestClient(app) as c:
        for method, path in v1_routes(app):
            refusals = [({}, 401, "missing_api_key"), ({"X-API-Key": WRONG_KEY}, 401, "invalid_api_key")]
            if path.startswith("/v1/admin"):
                refusals.append((KEY, 403, "admin_key_required"))
            for headers, status, code in refusals:
                r = c.request(method, path, headers={**headers, **JSON}, content=b"{}")
                assert (r.status_code, r.json()["error"]["code"]) == (status, code), (method, path, headers)
        for path in ("/docs", "/redoc", "/openapi.json", "/healthz", "/readyz"):
            r = c.get(path)
            assert r.status_code == 200 and not leaks(r.text), path
        spec = c.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert (op.get("security") == [{"ApiKey": []}]) == path.startswith("/v1"), (method, path)
    with TestClient(service_app(docs=False)) as c:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect", "/docs/assets/swagger-ui.css"):
            assert c.get(path).status_code == 404, path


# ------------------------------------------------------------------ a real server
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``triage serve`` at debug log level with a 4 KB body cap, on a free loopback port."""
    import httpx

    port, log = free_port(), tmp_path_factory.mktemp("serve") / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(TRIAGE_API_KEYS=SERVICE_KEY, TRIAGE_ADMIN_KEYS=SERVICE_ADMIN_KEY,
               TRIAGE_REGISTER_DB=str(tmp_path_factory.mktemp("reg") / "none.db"))
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "triage", "serve", "--port", str(port), "--log-level", "debug",
                                 "--max-body-bytes", "4096"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    end = time.monotonic() + 300  # only stops a hung test; nothing is timed
    while True:
        assert proc.poll() is None and time.monotonic() < end, log.read_text()
        try:
            if httpx.get(url + "/readyz", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    yield port, url, proc, log
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)


def raw_request(port: int, head: str, body_chunks=(), limit_bytes: int = 200 * 2**20) -> tuple[bytes, int]:
    """Send ``head`` then the chunks (until the server answers); returns (answer, bytes of body sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(head.encode("latin-1"))
        for chunk in body_chunks:
            if select.select([s], [], [], 0)[0] or sent > limit_bytes:
                break
            try:
                s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        s.settimeout(60)
        answer = b""
        while b"\r\n\r\n" not in answer:
            part = s.recv(65536)
            if not part:
                break
            answer += part
    return answer, sent


def test_a_real_server_answers_413_without_waiting_for_a_huge_body(server):
    port = server[0]
    head = (f"POST /v1/triage HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {SERVICE_KEY}\r\n"
            f"Content-Type: application/json\r\n")
    answer, _ = raw_request(port, head + "Content-Length: 10000000000\r\n\r\n")  # 10 GB announced, none sent
    assert answer.startswith(b"HTTP/1.1 413 ")

    def endless():
        chunk = b"x" * 65536
        while True:
            yield b"10000\r\n" + chunk + b"\r\n"

    answer, sent = raw_request(port, head + "Transfer-Encoding: chunked\r\n\r\n", endless())
    assert answer.startswith(b"HTTP/1.1 413 ") and sent < 200 * 2**20  # answered long before the sender gave up


def test_the_real_server_log_holds_no_key_and_no_personal_number(server):
    import httpx

    port, url, proc, log = server
    with httpx.Client(base_url=url, timeout=120) as c:
        statuses = [r.status_code for r in send_everything(c)]
        # keys sent where they do not belong: in the query string, under any key-like name, or in the path
        in_query = [c.get(f"/v1/taxonomy?api_key={SERVICE_KEY}").status_code,
                    c.get(f"/v1/model?access_token={SERVICE_ADMIN_KEY}&X-API-Key={WRONG_KEY}").status_code,
                    c.post(f"/v1/admin/reload?apikey={SERVICE_ADMIN_KEY}&format=json").status_code,
                    c.get(f"/v1/nothing/{SERVICE_KEY}").status_code]
    assert statuses[0] == 200 and statuses[12] == 503  # the register is not set up here: 503, also logged
    assert in_query == [401, 401, 401, 404]  # a key is only taken from the X-API-Key header
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(120) == 0
    text = log.read_text()
    assert "GET /v1/lookup/[身份证号]?tel=[手机号]&id=[身份证号] 404" in text
    assert "GET /v1/taxonomy?api_key=[hidden] 401" in text
    assert "GET /v1/model?access_token=[hidden]&X-API-Key=[hidden] 401" in text
    assert "POST /v1/admin/reload?apikey=[hidden]&format=json 401" in text
    assert "GET /v1/nothing/[hidden] 404" in text
    assert leaks(text) == []


# --------------------------------------------------------------------- dependencies
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9_,.\- ]+\])?\s*(?P<spec>[^;]*)(;.*)?$")


def lower_bound(requirement: str) -> str | None:
    """The version after '>=' in a requirement string, None if it has no lower bound."""
    m = REQUIREMENT.match(requirement.strip())
    assert m, f"not a requirement: {requirement!r}"
    bound = re.search(r">=\s*(\d+(\.\d+)*)", m["spec"])
    return bound[1] if bound and "==" not in m["spec"] else None


def test_lower_bound_reads_requirements():
    assert lower_bound("psycopg[binary]>=3.1") == "3.1"
    assert lower_bound("numpy>=1.26,<3") == "1.26"
    assert lower_bound("jieba") is None and lower_bound("pandas==2.1") is None and lower_bound("scipy<2") is None


def test_every_dependency_has_a_lower_bound():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    groups = {"dependencies": project["project"]["dependencies"], "build-system": project["build-system"]["requires"],
              **{f"extra {k}": v for k, v in project["project"].get("optional-dependencies", {}).items()}}
    missing = [f"{group}: {req}" for group, reqs in groups.items() for req in reqs if lower_bound(req) is None]
    assert missing == []
    assert len(groups["dependencies"]) >= 10 and "dev" in project["project"]["optional-dependencies"]
    dev = {REQUIREMENT.match(r)["name"].lower() for r in project["project"]["optional-dependencies"]["dev"]}
    assert {"pytest", "hypothesis", "httpx", "schemathesis"} <= dev  # what these tests import
