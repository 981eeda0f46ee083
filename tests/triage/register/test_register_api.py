"""``/v1/suggestions`` on SQLite and PostgreSQL: the same keys as the rest of the API, the whole
cycle, 409 on a stale version or an illegal transition, clear JSON errors."""
import pytest
from fastapi.testclient import TestClient

from tests.conftest import SERVICE_KEY
from triage.register import init_register

KEY = {"X-API-Key": SERVICE_KEY}
PROBLEM = {"problem_id": "P1", "text": "向林农收购原木开不出收购发票，联系电话13812345678", "category": "tax",
           "tier": "transfer", "enterprises": ["甲木业", "乙板材"], "opinion_ids": ["2025-06-001"]}


@pytest.fixture
def api(service_app, register_db, monkeypatch):
    init_register(register_db)
    monkeypatch.setenv("TRIAGE_REGISTER_DB", register_db)  # opened on the first request
    app = service_app()
    with TestClient(app) as client:
        yield client
    if getattr(app.state, "register", None) is not None:
        app.state.register.close()


def _create(api, **extra):
    r = api.post("/v1/suggestions", headers=KEY, json={"problems": [PROBLEM], "on": "2025-06-20", "actor": "王站长",
                                                       "source": "screening-2025-06.xlsx", **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_the_routes_need_a_key(api):
    for method, path in (("get", "/v1/suggestions"), ("post", "/v1/suggestions"), ("get", "/v1/suggestions/stats"),
                         ("get", "/v1/suggestions/1"), ("post", "/v1/suggestions/1/rate")):
        r = getattr(api, method)(path)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "missing_api_key")


def test_the_whole_cycle(api):
    s = _create(api)
    assert (s["code"], s["status"], s["version"], s["lead_agency"]) == ("S-2025-001", "draft", 1, "区税务局")
    assert s["problems"][0]["text"] == "向林农收购原木开不出收购发票,联系电话[手机号]"
    assert s["problems"][0]["source"] == "screening-2025-06.xlsx"
    r = api.post("/v1/suggestions/S-2025-001/assign", headers=KEY,
                 json={"version": 1, "deputies": ["周建华"], "working_days": 20, "on": "2025-06-23"})
    assert r.status_code == 200 and (r.json()["deadline"], r.json()["version"]) == ("2025-07-21", 2)
    for path, body in (("progress", {"note": "召开座谈会", "on": "2025-06-24"}),
                       ("answer", {"answer": "已明确收购发票开具流程", "on": "2025-06-30", "actor": "区税务局"}),
                       ("rate", {"satisfaction": "不满意", "note": "抵扣仍未解决", "on": "2025-07-01"})):
        version = api.get("/v1/suggestions/1", headers=KEY).json()["version"]
        r = api.post(f"/v1/suggestions/1/{path}", headers=KEY, json={"version": version, **body})
        assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["look_backs"], r.json()["deadline"]) == ("look_back", 1, "2025-07-29")
    events = api.get("/v1/suggestions/S-2025-001/history", headers=KEY).json()["events"]
    assert [(e["action"], e["actor"]) for e in events] == [
        ("create", "王站长 (api#1)"), ("assign", "api#1"), ("progress", "api#1"), ("answer", "区税务局 (api#1)"),
        ("rate", "api#1")]
    listed = api.get("/v1/suggestions", headers=KEY, params={"overdue": "true", "agency": "税务"}).json()
    assert listed["count"] == 1 and listed["items"][0]["code"] == "S-2025-001"
    assert api.get("/v1/suggestions", headers=KEY, params={"deputy": "李明"}).json() == {"count": 0, "items": []}
    st = api.get("/v1/suggestions/stats", headers=KEY).json()
    assert st["headline_zh"] == "2025年以来共提出建议1件（办结0件）、议案0件（办结0件）"


def test_a_stale_version_gets_409_and_nothing_is_lost(api):
    _create(api)
    api.post("/v1/suggestions/1/assign", headers=KEY, json={"version": 1, "deputies": ["周建华"], "deadline": "2025-09-30",
                                                            "on": "2025-06-23"})
    first = api.post("/v1/suggestions/1/progress", headers=KEY, json={"version": 2, "note": "代表甲的记录"})
    second = api.post("/v1/suggestions/1/progress", headers=KEY, json={"version": 2, "note": "代表乙的记录"})
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json() == {"error": {
        "code": "version_conflict", "field": "version", "limit": None, "details": [],
        "message": "S-2025-001 is at version 3, but this change was based on version 2: someone else changed it "
                   "meanwhile; reload it and try again"}}
    notes = [e["note"] for e in api.get("/v1/suggestions/1/history", headers=KEY).json()["events"]]
    assert notes[-1] == "代表甲的记录" and "代表乙的记录" not in notes


@pytest.mark.parametrize("path, body, status, code, message", [
    ("/v1/suggestions/1/rate", {"version": 1, "satisfaction": "满意"}, 409, "illegal_transition",
     "cannot rate S-2025-001: its status is 'draft' (草稿); allowed next: 'assigned' (已交办); attempted: 'closed' (已办结)"),
    ("/v1/suggestions/7/answer", {"version": 1, "answer": "x"}, 404, "suggestion_not_found",
     "no suggestion or motion '7' in the register"),
    ("/v1/suggestions/1/rate", {"version": 1, "satisfaction": "很好"}, 422, "invalid_input",
     "satisfaction: expected one of satisfied (满意)"),
    ("/v1/suggestions/1/progress", {"note": "x"}, 422, "missing_field", "version: required field is missing"),
    ("/v1/suggestions/1/progress", {"version": 1, "note": "x", "colour": "red"}, 422, "invalid_value",
     "Value error, unknown field(s) ['colour']; expected ['actor', 'note', 'on', 'version']"),
    ("/v1/suggestions", {"problems": [{"text": "开票难", "category": "tax"}, {"text": "展会少", "category": "branding"}]},
     422, "invalid_input", "the problems have categories ['branding', 'tax']; choose the suggestion's category"),
])
def test_refusals_are_clear_json_errors(api, path, body, status, code, message):
    _create(api)
    r = api.post(path, headers=KEY, json=body)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code)
    assert r.json()["error"]["message"].startswith(message)


def test_an_uninitialised_register_is_503(service_app, tmp_path, monkeypatch):
    monkeypatch.setenv("TRIAGE_REGISTER_DB", str(tmp_path / "none.db"))
    with TestClient(service_app()) as client:
        r = client.get("/v1/suggestions", headers=KEY)
    assert r.status_code == 503 and r.json()["error"]["code"] == "register_unavailable"
    # the file is named, its absolute path is not (error bodies never show one)
    message = r.json()["error"]["message"]
    assert message.startswith("no register at ") and "none.db; create it with: triage register init" in message
    assert str(tmp_path) not in r.text


def test_the_routes_are_documented_in_both_languages_with_examples(service_app):
    import re

    with TestClient(service_app()) as client:
        spec = client.get("/openapi.json").json()
    ops = [(p, m, op) for p, ops in spec["paths"].items() if p.startswith("/v1/suggestions") for m, op in ops.items()]
    assert sorted((p, m) for p, m, _ in ops) == [
        ("/v1/suggestions", "get"), ("/v1/suggestions", "post"), ("/v1/suggestions/stats", "get"),
        ("/v1/suggestions/{ref}", "get"), ("/v1/suggestions/{ref}/answer", "post"),
        ("/v1/suggestions/{ref}/assign", "post"), ("/v1/suggestions/{ref}/history", "get"),
        ("/v1/suggestions/{ref}/progress", "post"), ("/v1/suggestions/{ref}/rate", "post")]
    for path, method, op in ops:
        text = op["summary"] + op["description"]
        assert re.search(r"[\u4e00-\u9fff]", text) and re.search(r"[A-Za-z]{4}", text), (path, method)
        ok = op["responses"]["201" if method == "post" and path == "/v1/suggestions" else "200"]
        assert "example" in ok["content"]["application/json"], (path, method)
        assert op["security"] == [{"ApiKey": []}], (path, method)
        if method == "post" and path != "/v1/suggestions":
            assert "version_conflict" in op["responses"]["409"]["description"]
