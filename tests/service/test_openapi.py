"""/openapi.json and /docs: enums for every code field, a response model on every route,
readable operation ids, ``Location`` on 201, and documentation pages that load nothing from
outside the server (no CDN: a station's intranet is often offline)."""
import re

import pytest
from fastapi.testclient import TestClient

from triage.model.estimator import REVIEW_REASONS
from triage.register.states import KINDS, SATISFACTION, STATUSES, SUPERVISION
from tests.conftest import SERVICE_KEY

KEY = {"X-API-Key": SERVICE_KEY}
OPERATION_IDS = {
    ("post", "/v1/triage"): "triage_opinions", ("get", "/v1/taxonomy"): "get_taxonomy",
    ("get", "/v1/model"): "get_model_card", ("get", "/healthz"): "healthz", ("get", "/readyz"): "readyz",
    ("post", "/v1/admin/reload"): "reload_model", ("get", "/v1/suggestions"): "list_suggestions",
    ("post", "/v1/suggestions"): "create_suggestion", ("get", "/v1/suggestions/stats"): "suggestion_stats",
    ("get", "/v1/suggestions/{ref}"): "get_suggestion", ("get", "/v1/suggestions/{ref}/history"): "suggestion_history",
    ("post", "/v1/suggestions/{ref}/assign"): "assign_suggestion",
    ("post", "/v1/suggestions/{ref}/progress"): "record_progress",
    ("post", "/v1/suggestions/{ref}/answer"): "record_answer", ("post", "/v1/suggestions/{ref}/rate"): "rate_answer",
}


@pytest.fixture(scope="module")
def served(shipped):
    from service.app import create_app
    from service.holder import ModelHolder
    from service.settings import Settings
    from tests.conftest import MODELS

    holder = ModelHolder(MODELS)
    holder.set(shipped)
    with TestClient(create_app(Settings(api_keys=(SERVICE_KEY,), model_dir=MODELS), holder=holder)) as c:
        yield c, c.get("/openapi.json").json()


def schema_of(spec, ref_or_schema):
    while "$ref" in ref_or_schema:
        ref_or_schema = spec["components"]["schemas"][ref_or_schema["$ref"].rsplit("/", 1)[1]]
    return ref_or_schema


def enum_of(spec, prop) -> list:
    prop = schema_of(spec, prop)
    for option in prop.get("anyOf", [prop]):
        option = schema_of(spec, option)
        if "enum" in option:
            return option["enum"]
        if option.get("type") == "array":
            return enum_of(spec, option["items"])
    raise AssertionError(f"no enum in {prop}")


def props(spec, name):
    return spec["components"]["schemas"][name]["properties"]


def test_operation_ids_are_readable_and_cover_every_route(served):
    _, spec = served
    found = {(m, p): op["operationId"] for p, ops in spec["paths"].items() for m, op in ops.items()}
    assert found == OPERATION_IDS


def test_every_route_has_a_response_model(served):
    _, spec = served
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            ok = op["responses"]["201" if op["operationId"] == "create_suggestion" else "200"]
            schema = ok["content"]["application/json"]["schema"]
            assert "$ref" in schema, (method, path, schema)
            assert schema_of(spec, schema)["properties"], (method, path)


def test_code_fields_are_enums_from_the_taxonomy_and_the_register(served, shipped):
    _, spec = served
    cats, tiers = shipped.taxonomy.category_codes, shipped.taxonomy.tier_codes
    result = props(spec, "TriageResult")
    assert enum_of(spec, result["category"]) == cats and enum_of(spec, result["tier"]) == tiers
    assert enum_of(spec, result["review_reason"]) == list(REVIEW_REASONS)
    assert enum_of(spec, props(spec, "Alternative")["category"]) == cats
    assert enum_of(spec, props(spec, "CategoryOut")["code"]) == cats
    assert enum_of(spec, props(spec, "TierOut")["code"]) == tiers
    summary = props(spec, "SuggestionSummary")
    assert enum_of(spec, summary["status"]) == list(STATUSES) and enum_of(spec, summary["kind"]) == list(KINDS)
    assert enum_of(spec, summary["satisfaction"]) == list(SATISFACTION)
    assert enum_of(spec, summary["supervision"]) == list(SUPERVISION)
    assert enum_of(spec, summary["category"]) == cats and enum_of(spec, summary["tier"]) == tiers
    event = props(spec, "Event")
    assert enum_of(spec, event["status_from"]) == enum_of(spec, event["status_to"]) == list(STATUSES)
    # requests take a code or its Chinese name, as the register does
    rate = enum_of(spec, props(spec, "RateIn")["satisfaction"])
    assert rate == [v for code, zh in SATISFACTION.items() for v in (code, zh)]
    assert enum_of(spec, props(spec, "CreateIn")["kind"]) == ["suggestion", "建议", "motion", "议案"]
    problem_category = enum_of(spec, props(spec, "ProblemIn")["category"])
    assert problem_category == [v for c in shipped.taxonomy.categories for v in (c.code, c.name_zh)]
    params = {p["name"]: p for p in spec["paths"]["/v1/suggestions"]["get"]["parameters"]}
    assert enum_of(spec, params["status"]["schema"]) == [v for code, (zh, _) in STATUSES.items() for v in (code, zh)]
    assert enum_of(spec, params["kind"]["schema"]) == ["suggestion", "建议", "motion", "议案"]
    assert "tax" in enum_of(spec, params["category"]["schema"])


def test_the_taxonomy_enums_follow_the_model_in_service(service_app, shipped):
    from dataclasses import replace

    from service.holder import ModelHolder
    from tests.conftest import MODELS

    class Renamed:  # the shipped model with one more category in its taxonomy
        taxonomy = replace(shipped.taxonomy, categories=(*shipped.taxonomy.categories,
                                                         replace(shipped.taxonomy.categories[0], code="forestry")))
        card_ = shipped.card_

    holder = ModelHolder(MODELS)
    holder.set(Renamed())
    with TestClient(service_app(holder=holder)) as c:
        spec = c.get("/openapi.json").json()
    assert enum_of(spec, props(spec, "TriageResult")["category"])[-1] == "forestry"


def test_a_201_carries_a_location_header_and_documents_it(service_app, tmp_path, served):
    from triage.register import Register, init_register

    _, spec = served
    documented = spec["paths"]["/v1/suggestions"]["post"]["responses"]["201"]
    assert set(documented["headers"]) == {"Location"}
    statuses = {code for ops in spec["paths"].values() for op in ops.values() for code in op["responses"]}
    assert "201" in statuses
    for ops in spec["paths"].values():
        for op in ops.values():
            if "201" in op["responses"]:
                assert "Location" in op["responses"]["201"]["headers"], op["operationId"]
    url = f"sqlite:///{tmp_path / 'register.db'}"
    init_register(url)
    app = service_app()
    app.state.register = Register(url)
    try:
        with TestClient(app) as c:
            r = c.post("/v1/suggestions", headers=KEY, json={
                "problems": [{"text": "向林农收购原木开不出收购发票", "category": "tax", "tier": "transfer"}]})
            assert r.status_code == 201, r.text
            assert r.headers["location"] == f"/v1/suggestions/{r.json()['code']}"
            again = c.get(r.headers["location"], headers=KEY)
            assert again.status_code == 200 and again.json() == r.json()
    finally:
        app.state.register.close()


# -------------------------------------------------------------------------- offline docs
def outside_urls(html: str) -> list[str]:
    """Every http(s) URL, protocol-relative URL or @import a page would fetch."""
    return re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'<>]*", html)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_nothing_from_outside_the_server(served, page):
    c, _ = served
    r = c.get(page)
    assert r.status_code == 200
    assert outside_urls(r.text) == []
    assets = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert assets and all(a.startswith("/docs/assets/") for a in assets), assets
    for asset in assets:
        got = c.get(asset)
        assert got.status_code == 200 and len(got.content) > 1000, asset
    if page == "/docs":
        assert {a.rsplit("/", 1)[1] for a in assets} == {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}
        assert '"validatorUrl": null' in r.text  # no badge fetched from validator.swagger.io
        assert "url: '/openapi.json'" in r.text


def test_the_assets_come_from_the_installed_package(served):
    from service.docs import assets_dir

    c, _ = served
    js = c.get("/docs/assets/swagger-ui-bundle.js")
    assert js.headers["content-type"].startswith(("application/javascript", "text/javascript"))
    assert js.content == (assets_dir() / "swagger-ui-bundle.js").read_bytes()
    assert b"SwaggerUIBundle" in js.content
    css = c.get("/docs/assets/swagger-ui.css")
    assert css.headers["content-type"].startswith("text/css") and b".swagger-ui" in css.content
