"""Faults a hostile test found in the API (issue 13), each reproduced: an out-of-range intake
date (was a 500), an API key sent in the query string (was logged in clear), and error bodies
showing absolute paths or the database host and user."""
import logging
import re
import shutil

import pytest
from fastapi.testclient import TestClient

from service.holder import ModelHolder
from service.logs import MaskFilter
from service.redact import hide_secrets, public
from tests.conftest import SERVICE_ADMIN_KEY, SERVICE_KEY

KEY = {"X-API-Key": SERVICE_KEY}
ADMIN = {"X-API-Key": SERVICE_ADMIN_KEY}
ABSOLUTE = re.compile(r"(?<![\w.])/(tmp|home|root|srv|var|work|usr|opt)/")


@pytest.fixture
def client(service_app):
    with TestClient(service_app(), raise_server_exceptions=False) as c:
        yield c


# ------------------------------------------------------------------ (3) dates out of range
@pytest.mark.parametrize("date, shown", [("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-01"),
                                         ("1999-12-31", "1999-12-31"), ("2100-01-01", "2100-01-01"),
                                         ("9999年12月31日", "9999-12-31")])
def test_an_intake_date_out_of_range_is_a_422_naming_the_range(client, date, shown):
    for body, field in (({"text": "路灯坏了", "intake_date": date}, "intake_date"),
                        ({"items": [{"text": "路灯坏了"}, {"text": "路灯坏了", "intake_date": date}]},
                         "items[1].intake_date")):
        r = client.post("/v1/triage", json=body, headers=KEY)
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert (err["code"], err["field"]) == ("bad_date", field)
        assert err["message"] == (f"{field}: the date {shown} is out of range; expected a date from 2000-01-01 "
                                  f"to 2099-12-31")  # triage.routing.FIRST_DATE .. LAST_DATE, the range every door uses


@pytest.mark.parametrize("date", ["2000-01-01", "2099-12-31", "2099/12/31"])
def test_the_first_and_last_dates_of_the_range_are_served(client, date):
    r = client.post("/v1/triage", json={"text": "从林农手里收的原木开不出收购发票", "intake_date": date}, headers=KEY)
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["deadline"] > date.replace("/", "-") and result["deadline_days"] > 0  # ISO dates sort as text


def test_a_date_past_the_calendar_is_still_a_422(client):
    r = client.post("/v1/triage", json={"text": "路灯坏了", "intake_date": "99999-01-01"}, headers=KEY)
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_date"


# --------------------------------------------------------------- (4) keys in the query string
def test_a_key_in_the_query_string_never_reaches_a_log_record(client, caplog):
    with caplog.at_level(logging.DEBUG):
        statuses = [client.get(f"/v1/taxonomy?api_key={SERVICE_KEY}&lang=zh").status_code,
                    client.get(f"/v1/model?token={SERVICE_ADMIN_KEY}", headers=KEY).status_code,
                    client.get(f"/v1/x?Access_Token={SERVICE_KEY}&id=1").status_code,
                    client.get(f"/v1/x?api%5Fkey={SERVICE_KEY}").status_code,
                    client.get(f"/v1/x/{SERVICE_ADMIN_KEY}").status_code]
    assert statuses == [401, 200, 404, 404, 404]
    raw = [r.getMessage() for r in caplog.records if r.name == "service"]  # before any handler's filter
    assert [line.split(" ")[1] for line in raw if line.startswith("GET ")] == [
        "/v1/taxonomy?api_key=[hidden]&lang=zh", "/v1/model?token=[hidden]", "/v1/x?Access_Token=[hidden]&id=1",
        "/v1/x?api%5Fkey=[hidden]", "/v1/x/[hidden]"]
    service_side = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    assert SERVICE_KEY not in service_side and SERVICE_ADMIN_KEY not in service_side


def test_the_log_filter_hides_secrets_in_every_line():
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "%s %s", (
        "GET /x?api_key=k-0123456789abcdef&page=2", "X-API-Key: k-abcdef0123456789 postgresql://u:pw1@db/x"), None)
    assert MaskFilter().filter(record)
    assert record.getMessage() == "GET /x?api_key=[hidden]&page=2 X-API-Key: [hidden] postgresql://u:[hidden]@db/x"


@pytest.mark.parametrize("text, shown", [
    ("?secret=a&password=b&sig=c&signal=d&page=1", "?secret=[hidden]&password=[hidden]&sig=[hidden]&signal=d&page=1"),
    ("client=api#1 items=2", "client=api#1 items=2"),
    ("GET /v1/x?api_key=k-0123456789abcdef 401", "GET /v1/x?api_key=[hidden] 401"),
    ("Authorization: Bearer abc.def", "Authorization: [hidden]"),
])
def test_hide_secrets(text, shown):
    assert hide_secrets(text) == shown
    assert hide_secrets(shown) == shown  # the access line is hidden again by the log filter: no change


# -------------------------------------------------- (9) no paths or database details in bodies
def test_a_refused_reload_names_no_absolute_path(service_app, shipped, tmp_path):
    root = tmp_path / "station-models"
    shutil.copytree(shipped.path_, root / "v2")
    (root / "CURRENT").write_text("v2\n")
    victim = next(p for p in sorted((root / "v2").iterdir()) if p.name != "card.json")
    victim.write_bytes(victim.read_bytes() + b"tampered")
    holder = ModelHolder(root)
    holder.set(shipped)
    with TestClient(service_app(holder=holder)) as c:
        r = c.post("/v1/admin/reload", headers=ADMIN)
    assert r.status_code == 409 and r.json()["error"]["code"] == "model_refused"
    message = r.json()["error"]["message"]
    assert str(tmp_path) not in r.text and not ABSOLUTE.search(r.text), message
    assert message.endswith(f"still serving version {shipped.card_['version']}")


@pytest.mark.parametrize("url, hidden", [
    ("postgresql+psycopg://station_user:pw-9876@127.0.0.1:1/register", ("station_user", "127.0.0.1", "pw-9876")),
    ("{tmp}/nowhere/register.db", ("{tmp}",)),
])
def test_an_unavailable_register_names_no_host_user_or_path(service_app, tmp_path, monkeypatch, url, hidden):
    monkeypatch.setenv("TRIAGE_REGISTER_DB", url.format(tmp=tmp_path))
    with TestClient(service_app()) as c:
        r = c.get("/v1/suggestions", headers=KEY)
    assert r.status_code == 503 and r.json()["error"]["code"] == "register_unavailable"
    for word in hidden:
        assert word.format(tmp=tmp_path) not in r.text, r.text
    assert not ABSOLUTE.search(r.text)


@pytest.mark.parametrize("message, shown", [
    ("the model in /srv/station/models/v3 could not be loaded", "the model in …/v3 could not be loaded"),
    ("no register at /srv/x/register.db; create it with: triage register init --db /srv/x/register.db",
     "no register at …/register.db; create it with: triage register init --db …/register.db"),
    ('cannot open the register postgresql+psycopg://u:***@db.internal/reg: connection to server at "10.0.0.5", '
     'port 5432 failed: password authentication failed for user "triage"',
     "cannot open the register postgresql+psycopg://[hidden]: connection to server at [hidden], port 5432 failed: "
     "password authentication failed for user [hidden]"),
    (r"C:\Users\zhou\models\v1 is not a model", r"…\v1 is not a model"),
    ("no such endpoint; see /docs for the list (or /openapi.json)", "no such endpoint; see /docs for the list (or "
                                                                    "/openapi.json)"),
    ("POST /v1/admin/reload needs an admin key; date 2025/6/25; application/json",
     "POST /v1/admin/reload needs an admin key; date 2025/6/25; application/json"),
])
def test_public_messages(message, shown):
    assert public(message) == shown
