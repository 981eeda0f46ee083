"""API keys: on and off, user and admin keys, the refusal to start without keys, open docs."""
import hmac

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.auth import identify
from service.settings import Settings
from tests.conftest import MODELS, SERVICE_ADMIN_KEY, SERVICE_KEY
from triage.errors import InputError

ROUTES = [("post", "/v1/triage", {"text": "园区门口的路灯坏了"}), ("get", "/v1/taxonomy", None), ("get", "/v1/model", None)]


def call(client, method, path, body, key=None):
    headers = {"X-API-Key": key} if key is not None else {}
    return getattr(client, method)(path, headers=headers, **({"json": body} if body is not None else {}))


@pytest.mark.parametrize("method, path, body", ROUTES)
def test_v1_routes_need_a_known_key(service_app, method, path, body):
    with TestClient(service_app()) as c:
        r = call(c, method, path, body)
        assert r.status_code == 401 and r.json()["error"]["code"] == "missing_api_key"
        assert r.json()["error"]["field"] == "X-API-Key" and r.headers["www-authenticate"] == 'APIKey header="X-API-Key"'
        r = call(c, method, path, body, key=SERVICE_KEY[:-1] + "X")
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
        assert call(c, method, path, body, key=SERVICE_KEY).status_code == 200
        assert call(c, method, path, body, key=SERVICE_ADMIN_KEY).status_code == 200  # admins may triage too


def test_each_tool_has_its_own_key(service_app, caplog):
    import logging

    keys = ("intake-form-key-000000001", "message-board-key-0000002", "screening-sheet-key-00003")
    with TestClient(service_app(api_keys=keys)) as c, caplog.at_level(logging.INFO, logger="service"):
        for k in keys:
            assert call(c, *ROUTES[1], key=k).status_code == 200
    clients = [r.getMessage().split("client=")[1].split()[0] for r in caplog.records if "client=" in r.getMessage()]
    assert clients == ["api#1", "api#2", "api#3"]
    assert not any(k in caplog.text for k in keys)


def test_reload_needs_an_admin_key(service_app):
    with TestClient(service_app()) as c:
        r = c.post("/v1/admin/reload")
        assert r.status_code == 401 and r.json()["error"]["code"] == "missing_api_key"
        r = c.post("/v1/admin/reload", headers={"X-API-Key": SERVICE_KEY})
        assert r.status_code == 403
        assert r.json()["error"] == {"code": "admin_key_required", "message": "this needs an admin key (one of "
                                     "TRIAGE_ADMIN_KEYS)", "field": "X-API-Key", "limit": None, "details": []}
    with TestClient(service_app(admin_keys=())) as c:
        r = c.post("/v1/admin/reload", headers={"X-API-Key": SERVICE_KEY})
        assert r.status_code == 403 and r.json()["error"]["message"].endswith(
            "none is configured, so reloading over the API is off")


def test_health_readiness_and_docs_are_open_but_hold_no_data(service_app):
    with TestClient(service_app()) as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 200
        assert c.get("/docs").status_code == 200 and "swagger" in c.get("/docs").text.lower()
        assert c.get("/openapi.json").status_code == 200
        assert c.get("/redoc").status_code == 200


def test_docs_can_be_switched_off(service_app):
    with TestClient(service_app(docs=False)) as c:
        for path in ("/docs", "/redoc", "/openapi.json"):
            r = c.get(path)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert c.get("/v1/taxonomy", headers={"X-API-Key": SERVICE_KEY}).status_code == 200


def test_no_key_means_no_start_unless_insecure_dev():
    with pytest.raises(InputError, match="no API key configured: set TRIAGE_API_KEYS"):
        create_app(Settings(model_dir=MODELS))
    with pytest.raises(InputError, match="only listens on a loopback address"):
        create_app(Settings(model_dir=MODELS, insecure_dev=True, host="0.0.0.0"))


def test_insecure_dev_opens_every_route(service_app, caplog):
    import logging

    with caplog.at_level(logging.WARNING, logger="service"):
        with TestClient(service_app(api_keys=(), admin_keys=(), insecure_dev=True)) as c:
            for method, path, body in ROUTES:
                assert call(c, method, path, body).status_code == 200
            assert c.post("/v1/admin/reload").status_code == 200
    assert "INSECURE DEV MODE" in caplog.text


def test_keys_are_compared_in_constant_time_against_every_key(monkeypatch):
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append(b)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    api, admin = ("a" * 16, "b" * 16), ("c" * 16,)
    assert identify("a" * 16, api, admin) == ("api#1", False)
    assert len(compared) == 3  # the match on the first key does not stop the loop
    assert identify("c" * 16, api, admin) == ("admin#1", True)
    assert identify("d" * 16, api, admin) is None
    assert identify("", api, admin) is None and identify(None, api, admin) is None
    assert identify("ü" * 16, api, admin) is None  # non-ASCII header bytes do not crash the comparison


@pytest.mark.parametrize("keys, message", [
    (("short",), "key #1 has 5 characters; each key must be at least 16"),
    (("good-key-0123456789", "with space 0123456789"), "key #2 has 21 characters"),
])
def test_weak_keys_are_refused(keys, message):
    with pytest.raises(InputError, match=message) as exc:
        Settings.build(api_keys=keys)
    assert str(exc.value).startswith("TRIAGE_API_KEYS: ") and str(exc.value).endswith("found <hidden>")
    assert "short" not in str(exc.value).split("; found")[1]
