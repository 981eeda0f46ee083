"""The station API's endpoints with TestClient: what each returns, and that it is what the
library returns."""
import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import SERVICE_KEY

KEY = {"X-API-Key": SERVICE_KEY}
TAX = "从林农手里收的原木开不出收购发票，进项抵扣不了，税负太重"
TEXTS = ["园区门口路灯坏了三天了，晚上工人下班看不见路", "续贷下周到期，银行让先还再贷，过桥资金利息太高",
         "热压机压出来的板子老鼓泡，想请大学的老师来看看", "外地有人冒用我们的商标卖劣质生态板"]


@pytest.fixture
def client(service_app):
    with TestClient(service_app()) as c:
        yield c


def test_one_opinion_gets_what_the_library_returns_with_its_id(client, shipped):
    body = {"id": "2025-06-001", "text": TAX, "enterprise": "某某木业", "deputy": "周建华", "intake_date": "2025/6/25"}
    r = client.post("/v1/triage", json=body, headers=KEY)
    assert r.status_code == 200
    out = r.json()
    assert out["model_version"] == shipped.card_["version"] and out["count"] == 1
    expected = shipped.predict(TAX, intake_dates="2025-06-25", deputies="周建华").to_dict()
    assert out["results"] == [{"id": "2025-06-001", "enterprise": "某某木业", **expected}]
    assert out["results"][0]["category"] == "tax" and out["results"][0]["lead_agency"] == "区税务局"
    assert out["results"][0]["deadline"] is not None


def test_a_list_keeps_the_input_order_and_echoes_ids(client):
    items = [{"id": 10 - i, "text": t} for i, t in enumerate(TEXTS)]
    r = client.post("/v1/triage", json={"items": items}, headers=KEY)
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["id"] for x in results] == [10, 9, 8, 7]
    assert [x["category"] for x in results] == ["infrastructure", "financing", "technology", "branding"]
    assert all(x["deadline"] is None and x["enterprise"] is None for x in results)


def test_a_batch_is_one_vectorised_library_call(client, shipped, monkeypatch):
    calls = []
    real = shipped.predict_batch

    def spy(texts, dates, deputies):
        calls.append(len(texts))
        return real(texts, dates, deputies)

    monkeypatch.setattr(shipped, "predict_batch", spy)
    items = [{"text": TEXTS[i % 4], "deputy": f"代表{i}"} for i in range(1000)]
    r = client.post("/v1/triage", json={"items": items}, headers=KEY)
    assert r.status_code == 200 and r.json()["count"] == 1000
    assert calls == [1000]
    assert r.json()["results"][999]["deputy"] == "代表999"


def test_large_requests_run_in_the_thread_pool_small_ones_on_the_event_loop(client, shipped, monkeypatch):
    import threading

    from service.routes import INLINE_CHARS

    seen = []
    real = shipped.predict_batch
    monkeypatch.setattr(shipped, "predict_batch",
                        lambda *a: seen.append(threading.current_thread().name) or real(*a))
    assert client.post("/v1/triage", json={"text": TAX}, headers=KEY).status_code == 200
    n = INLINE_CHARS // len(TAX) + 1  # just over the inline limit
    assert client.post("/v1/triage", json={"items": [{"text": TAX}] * n}, headers=KEY).status_code == 200
    assert len(seen) == 2
    assert not seen[0].startswith("AnyIO worker thread")  # the event loop's own thread
    assert seen[1].startswith("AnyIO worker thread")


def test_taxonomy_lists_codes_names_agencies_and_deadlines(client, shipped):
    r = client.get("/v1/taxonomy", headers=KEY)
    assert r.status_code == 200
    tax = r.json()
    assert [c["code"] for c in tax["categories"]] == shipped.taxonomy.category_codes
    assert [(t["code"], t["deadline_days"]) for t in tax["tiers"]] == [("on_site", 7), ("transfer", 90), ("key", 180)]
    first = tax["categories"][0]
    assert (first["code"], first["name_zh"], first["name_en"], first["lead_agency_zh"]) == \
        ("tax", "税收与税改", "Tax and tax reform", "区税务局")
    assert set(tax["review_reasons"]) == {"off_topic", "out_of_scope", "novel", "empty_text", "no_usable_words",
                                          "no_known_terms", "low_confidence"}


def test_model_card_gives_version_metrics_and_labels(client, shipped):
    r = client.get("/v1/model", headers=KEY)
    assert r.status_code == 200
    card = r.json()
    assert card["version"] == shipped.card_["version"] and card["created_at"] == shipped.card_["created_at"]
    assert card["labels"]["categories"] == ["branding", "financing", "infrastructure", "tax", "technology"]
    assert card["metrics"]["category"]["macro_f1"] == shipped.card_["training"]["category"]["cv"]["macro_f1"]
    assert card["metrics"]["review"]["threshold"] == card["review_threshold"] == shipped.review_threshold_
    assert card["artifact"] == shipped.card_["files"] and "scorer.npz" in card["artifact"]


def test_health_and_readiness(client, shipped):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] == "ready" and r.json()["model_version"] == shipped.card_["version"]


def test_openapi_docs_are_bilingual_with_examples_for_every_endpoint(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    cjk = re.compile(r"[\u4e00-\u9fff]")
    mine = {"/v1/triage", "/v1/taxonomy", "/v1/model", "/healthz", "/readyz", "/v1/admin/reload"}
    assert mine <= set(spec["paths"])
    operations = [(path, op) for path, ops in spec["paths"].items() for op in ops.values() if path in mine]
    assert len(operations) == 6
    for path, op in operations:
        text = op["summary"] + op["description"]
        assert cjk.search(text) and re.search(r"[A-Za-z]{4}", text), path
        assert "example" in op["responses"]["200"]["content"]["application/json"], path
    body = spec["paths"]["/v1/triage"]["post"]["requestBody"]["content"]["application/json"]
    assert set(body["examples"]) == {"one", "many"}
    opinion = spec["components"]["schemas"]["Opinion"]["properties"]
    assert opinion["text"]["maxLength"] == 5000 and cjk.search(opinion["text"]["description"])
    batch = spec["components"]["schemas"]["OpinionBatch"]["properties"]["items"]
    assert batch["maxItems"] == 1000
    assert spec["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": "one of TRIAGE_API_KEYS (or TRIAGE_ADMIN_KEYS) / 站内工具的 API 密钥"}


def test_configured_limits_are_the_documented_ones(service_app):
    with TestClient(service_app(max_items=3, max_text_chars=50)) as c:
        spec = c.get("/openapi.json").json()
        assert spec["components"]["schemas"]["OpinionBatch"]["properties"]["items"]["maxItems"] == 3
        assert spec["components"]["schemas"]["Opinion"]["properties"]["text"]["maxLength"] == 50
        r = c.post("/v1/triage", json={"items": [{"text": "路灯坏了"}] * 4}, headers=KEY)
        assert r.status_code == 422 and r.json()["error"]["limit"] == 3
