"""Every error of the API: one JSON shape that names the field and the limit, a 4xx for bad
input, no stack trace to the client, personal data masked in the log."""
import json
import logging

import pytest
from fastapi.testclient import TestClient

from service.errors import ErrorResponse
from tests.conftest import SERVICE_KEY

KEY = {"X-API-Key": SERVICE_KEY}
JSON = {**KEY, "Content-Type": "application/json"}


@pytest.fixture
def client(service_app):
    with TestClient(service_app(), raise_server_exceptions=False) as c:
        yield c


def error_of(r, status):
    assert r.status_code == status, r.text
    body = r.json()
    ErrorResponse.model_validate(body)  # the one documented shape
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field", "limit", "details"}
    assert "Traceback" not in r.text and 'File "' not in r.text
    return body["error"]


@pytest.mark.parametrize("payload, code, field, limit, message", [
    ({"text": ""}, "empty_text", "text", None, "text: the text is empty or only white space"),
    ({"text": " \u3000\t\n"}, "empty_text", "text", None, "text: the text is empty or only white space"),
    ({"text": "x" * 5001}, "too_long", "text", 5000, "text: at most 5000 characters, found 5001"),
    ({"items": [{"text": "路灯坏了"}, {"text": "y" * 5001}]}, "too_long", "items[1].text", 5000,
     "items[1].text: at most 5000 characters, found 5001"),
    ({"items": [{"text": "路灯坏了"}] * 1001}, "too_many_items", "items", 1000,
     "items: at most 1000 items per request, found 1001; split the list"),
    ({"items": []}, "too_few_items", "items", 1, "items: at least 1 item, found 0"),
    ({"text": 42}, "wrong_type", "text", None, "text: expected a string, found a number"),
    ({"items": [{"text": ["a"]}]}, "wrong_type", "items[0].text", None, "items[0].text: expected a string, found an array"),
    ({"items": "路灯坏了"}, "wrong_type", "items", None, "items: expected an array, found a string"),
    ({"text": "路灯坏了", "id": 1.5}, "wrong_type", "id", None, "id: expected a string or an integer, found a number"),
    (["路灯坏了"], "wrong_type", None, None,
     'request body: expected a JSON object (one opinion, or {"items": [...]}), found an array'),
    ({"txt": "路灯坏了"}, "missing_field", "text", None, "text: required field is missing"),
    ({"text": "路灯坏了", "intake_date": "last tuesday"}, "bad_date", "intake_date", None, None),
    ({"text": "路灯坏了", "deputy": "周" * 101}, "too_long", "deputy", 100, "deputy: at most 100 characters, found 101"),
])
def test_bad_input_names_the_field_and_the_limit(client, payload, code, field, limit, message):
    err = error_of(client.post("/v1/triage", json=payload, headers=KEY), 422)
    assert (err["code"], err["field"], err["limit"]) == (code, field, limit)
    if message:
        assert err["message"] == message
    assert err["details"][0] == {k: err[k] for k in ("code", "message", "field", "limit")}


def test_every_problem_is_listed_and_input_is_not_echoed(client):
    secret = "电话13812345678" + "x" * 5000
    err = error_of(client.post("/v1/triage", json={"items": [{"text": " "}, {"text": secret}, {"txt": "a"}]},
                               headers=KEY), 422)
    assert [(d["code"], d["field"]) for d in err["details"]] == [
        ("empty_text", "items[0].text"), ("too_long", "items[1].text"), ("missing_field", "items[2].text"),
        ("unknown_field", "items[2].txt")]
    assert err["details"][3]["message"] == ("items[2].txt: unknown field; expected text, id, enterprise, deputy, "
                                            "intake_date (or items: a list of those)")
    assert "13812345678" not in json.dumps(err)


def test_malformed_and_missing_json(client):
    err = error_of(client.post("/v1/triage", content='{"text": "路灯'.encode(), headers=JSON), 422)
    assert err["code"] == "malformed_json" and err["message"].startswith("request body is not valid JSON (")
    err = error_of(client.post("/v1/triage", content=b"", headers=JSON), 422)
    assert err["code"] == "missing_body"
    err = error_of(client.post("/v1/triage", content=b"null", headers=JSON), 422)
    assert err["code"] == "wrong_type" and err["message"].endswith("found null")


def test_a_body_that_is_not_json_is_refused_with_415(client):
    err = error_of(client.post("/v1/triage", content="路灯坏了".encode(), headers={**KEY, "Content-Type": "text/plain"}), 415)
    assert err == {"code": "unsupported_media_type", "message": "expected Content-Type application/json, found text/plain",
                   "field": "Content-Type", "limit": None, "details": []}


def test_an_oversized_body_is_refused_before_parsing(service_app, monkeypatch):
    import service.routes

    parsed = []
    monkeypatch.setattr(service.routes, "current_model", lambda request: parsed.append(1))
    with TestClient(service_app(max_body_bytes=2048)) as c:
        body = json.dumps({"text": "路灯坏了" * 1000}).encode()
        err = error_of(c.post("/v1/triage", content=body, headers=JSON), 413)  # declared Content-Length
        assert (err["code"], err["limit"]) == ("body_too_large", 2048)

        def chunks():  # no Content-Length: counted while it streams in
            for _ in range(10):
                yield b'{"text": "' + b"x" * 500

        err = error_of(c.post("/v1/triage", content=chunks(), headers=JSON), 413)
        assert (err["code"], err["limit"]) == ("body_too_large", 2048)
    assert parsed == []


def test_default_body_cap_admits_the_largest_valid_request():
    from service.settings import Settings

    s = Settings(api_keys=(SERVICE_KEY,))
    worst = json.dumps({"items": [{"text": "路" * 5000, "id": "x" * 200} for _ in range(1000)]})  # \\uXXXX escapes
    assert len(worst.encode()) < s.body_limit


def test_unknown_route_and_wrong_method(client):
    err = error_of(client.get("/v1/nothing", headers=KEY), 404)
    assert err["code"] == "not_found"
    r = client.get("/v1/triage", headers=KEY)
    err = error_of(r, 405)
    assert err["code"] == "method_not_allowed" and r.headers["allow"] == "POST"


def test_a_bug_is_a_500_with_a_reference_and_a_masked_log(client, shipped, monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("cannot handle 王建国经理 13812345678")

    monkeypatch.setattr(shipped, "predict_batch", broken)
    with caplog.at_level(logging.INFO, logger="service"):
        r = client.post("/v1/triage", json={"text": "路灯坏了，联系13812345678"}, headers=KEY)
    err = error_of(r, 500)
    assert err["code"] == "internal_error"
    ref = err["message"].rsplit(" ", 1)[1]
    assert err["message"] == f"internal error; it was logged under reference {ref}"
    assert "13812345678" not in r.text and "RuntimeError" not in r.text
    logged = caplog.text
    assert ref in logged and "RuntimeError" in logged and "Traceback" in logged
    assert "13812345678" not in logged and "王建国" not in logged and "[手机号]" in logged


def test_request_log_lines_mask_personal_data_and_never_hold_keys(client, caplog):
    with caplog.at_level(logging.INFO, logger="service"):
        client.get("/v1/lookup?phone=13812345678&id=110101199003071234", headers=KEY)
        client.post("/v1/triage", json={"text": "王建国经理说电话13812345678"}, headers=KEY)
        client.post("/v1/triage", json={"text": "路灯坏了"}, headers={"X-API-Key": "wrong-key-13812345678"})
    lines = [r.getMessage() for r in caplog.records if r.name == "service"]
    assert any(line.startswith("GET /v1/lookup?phone=[手机号]&id=[身份证号] 404") for line in lines)
    assert any(line.startswith("POST /v1/triage 200") and "client=api#1 items=1" in line for line in lines)
    assert any(line.startswith("POST /v1/triage 401") for line in lines)
    text = "\n".join(lines)
    assert "13812345678" not in text and "110101199003071234" not in text and "王建国" not in text
    assert SERVICE_KEY not in text and "wrong-key" not in text


def test_mask_filter_masks_message_arguments_and_traceback():
    from service.logs import MaskFilter, log_config

    try:
        raise ValueError("ID 110101199003071234")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "call %s from %s", ("13812345678", "李明主任"),
                                   sys.exc_info())
    assert MaskFilter().filter(record) is True
    rendered = logging.Formatter().format(record)
    assert "call [手机号] from 李某主任" in rendered and "[身份证号]" in rendered
    assert "13812345678" not in rendered and "110101199003071234" not in rendered
    config = log_config("warning")
    assert all(h["filters"] == ["mask"] for h in config["handlers"].values())
    assert config["loggers"]["service"]["level"] == "WARNING"
