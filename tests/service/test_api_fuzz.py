"""API fuzzing with schemathesis against the service's own OpenAPI schema, in process (ASGI).

Every operation of /openapi.json, the register routes included, gets requests generated from
its schema: valid ones (positive) and ones that break it (negative: wrong types, missing
fields, values out of range, bodies that are not JSON). Whatever is sent, the answer is never
a 5xx; every error is the documented JSON shape ({"error": {code, message, field, limit,
details}}) with a status the operation documents; every success matches its response schema.

EXAMPLES cases per operation and mode (default 40; TRIAGE_FUZZ_EXAMPLES raises it for a
longer local run). The model reload route reloads for real (hash check skipped: the loader
hands back the model already in memory, warm-up and swap included) but only a few times.
"""
import os
from collections import Counter

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from service.app import create_app
from service.errors import ErrorResponse
from service.settings import Settings
from tests.conftest import MODELS, SERVICE_ADMIN_KEY, SERVICE_KEY
from service.holder import ModelHolder
from triage.register import ConfirmedProblem, Register, init_register

EXAMPLES = int(os.environ.get("TRIAGE_FUZZ_EXAMPLES", "40"))
ADMIN = {"X-API-Key": SERVICE_ADMIN_KEY}  # an admin key may call every route
ERROR_KEYS = {"code", "message", "field", "limit", "details"}

# (method, path, takes input): every operation the schema must hold, and nothing else.
OPERATIONS = [
    ("POST", "/v1/triage", True), ("GET", "/v1/taxonomy", False), ("GET", "/v1/model", False),
    ("GET", "/healthz", False), ("GET", "/readyz", False), ("POST", "/v1/admin/reload", False),
    ("GET", "/v1/suggestions", True), ("POST", "/v1/suggestions", True), ("GET", "/v1/suggestions/stats", True),
    ("GET", "/v1/suggestions/{ref}", True), ("GET", "/v1/suggestions/{ref}/history", True),
    ("POST", "/v1/suggestions/{ref}/assign", True), ("POST", "/v1/suggestions/{ref}/progress", True),
    ("POST", "/v1/suggestions/{ref}/answer", True), ("POST", "/v1/suggestions/{ref}/rate", True),
]
# Each operation with input is fuzzed positive and negative; a register route with a {ref} also
# positive on a suggestion that exists (a random ref is nearly always 404).
RUNS = ([(m, p, "positive", None) for m, p, _ in OPERATIONS]
        + [(m, p, "negative", None) for m, p, takes_input in OPERATIONS if takes_input]
        + [(m, p, "positive", "1") for m, p, _ in OPERATIONS if "{ref}" in p])


@pytest.fixture(scope="module")
def app(shipped, tmp_path_factory):
    holder = ModelHolder(MODELS, loader=lambda folder: shipped)
    holder.set(shipped)
    application = create_app(Settings(api_keys=(SERVICE_KEY,), admin_keys=(SERVICE_ADMIN_KEY,), model_dir=MODELS),
                             holder=holder)
    url = f"sqlite:///{tmp_path_factory.mktemp('register') / 'register.db'}"
    init_register(url)
    register = Register(url)
    problem = ConfirmedProblem("向林农收购原木开不出收购发票", "tax", "transfer", ("甲木业",), ("2025-06-001",))
    register.create([problem], actor="联络站")
    application.state.register = register
    yield application
    register.close()


@pytest.fixture(scope="module")
def schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_every_operation_of_the_schema_is_fuzzed(schema):
    found = sorted((r.ok().method.upper(), r.ok().path) for r in schema.get_all_operations())
    assert found == sorted((m, p) for m, p, _ in OPERATIONS)


def check_answer(case, response, mode):
    """No 5xx; an error has the documented shape and a documented status; a success its schema."""
    assert response.status_code < 500, (case.method, case.path, case.body, response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        ErrorResponse.model_validate(body)
        assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS, body
        assert "Traceback" not in response.text and SERVICE_ADMIN_KEY not in response.text
    checks = [status_code_conformance, content_type_conformance]
    if mode == "positive" or response.status_code >= 400:
        checks.append(response_schema_conformance)
    case.validate_response(response, checks=checks)


@pytest.mark.slow  # schemathesis: EXAMPLES generated requests per operation and mode
@pytest.mark.parametrize("method, path, mode, ref", RUNS, ids=[
    f"{m} {p} {mode}" + (f" ref={ref}" if ref else "") for m, p, mode, ref in RUNS])
def test_no_generated_request_gets_a_5xx_or_an_undocumented_error(schema, method, path, mode, ref):
    operation = schema[path][method]
    strategy = operation.as_strategy(generation_mode=GenerationMode(mode), headers=dict(ADMIN),
                                     path_parameters={"ref": ref} if ref else None)
    statuses = Counter()
    n = 3 if path == "/v1/admin/reload" else EXAMPLES  # each one loads, warms up and swaps a model

    @settings(max_examples=n, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(st.data())
    def fuzz(data):
        case = data.draw(strategy)
        response = case.call()
        statuses[response.status_code] += 1
        check_answer(case, response, mode)

    fuzz()
    print(f"\n{method} {path} {mode}{' ref=' + ref if ref else ''}: {sum(statuses.values())} cases, "
          f"statuses {dict(sorted(statuses.items()))}")
    assert sum(statuses.values()) >= 1
    if mode == "positive" and path in ("/v1/triage", "/v1/taxonomy", "/v1/model", "/healthz", "/readyz",
                                       "/v1/admin/reload", "/v1/suggestions/stats"):
        assert statuses[200] >= 1, statuses  # valid requests do get through


def test_operations_without_input_have_nothing_to_negate(schema):
    """The negative runs above leave these out because schemathesis cannot break their input:
    the key header is held fixed and they take no other."""
    for method, path, takes_input in OPERATIONS:
        if takes_input:
            continue
        strategy = schema[path][method].as_strategy(generation_mode=GenerationMode.NEGATIVE, headers=dict(ADMIN))

        @settings(max_examples=5, deadline=None, database=None)
        @given(st.data())
        def draw(data):
            data.draw(strategy)

        with pytest.raises(Unsatisfiable):
            draw()


@pytest.mark.parametrize("body, why", [
    (b'{"text": "\xff\xfe\xb0"}', "it is not UTF-8 text"),
    (b'{"items": ' + b"[" * 5000 + b"]" * 5000 + b"}", "it is nested too deeply"),
])
def test_a_body_json_cannot_decode_gets_the_documented_malformed_json_error(app, body, why):
    """Found by the fuzzing: bytes that are not UTF-8 (and, the same way, arrays nested
    thousands deep) were a 400 'There was an error parsing the body', FastAPI's own text, with
    a status no operation documents."""
    with TestClient(app) as client:
        for path in ("/v1/triage", "/v1/suggestions", "/v1/suggestions/1/progress"):
            r = client.post(path, content=body, headers={**ADMIN, "Content-Type": "application/json"})
            assert r.status_code == 422, (path, r.text)
            err = r.json()["error"]
            assert (err["code"], err["field"], err["limit"]) == ("malformed_json", None, None)
            assert err["message"] == f"request body is not valid JSON ({why})"
            assert err["details"] == [{k: err[k] for k in ("code", "message", "field", "limit")}]


@pytest.mark.parametrize("ref", ["¹", "²³", "9" * 32])
def test_a_ref_that_looks_like_a_number_but_is_not_one_is_not_found(app, ref):
    """Found by the fuzzing: '¹' passes str.isdigit() but not int() (500), and a 32-digit
    number overflowed SQLite's integer (500)."""
    with TestClient(app) as client:
        for method, path, body in (("GET", "", None), ("GET", "/history", None),
                                   ("POST", "/answer", {"version": 1, "answer": "已答复"})):
            r = client.request(method, f"/v1/suggestions/{ref}{path}", headers=ADMIN, json=body)
            assert (r.status_code, r.json()["error"]["code"]) == (404, "suggestion_not_found"), (method, path, r.text)
            assert r.json()["error"]["message"].startswith("no suggestion or motion '")  # the ref as clean() shows it
