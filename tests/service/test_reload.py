"""Swapping models while requests run: the model holder (triage/holder.py) and
POST /v1/admin/reload. No request may fail during a swap; a model that fails to load or
fails its hash check is refused and the old one stays."""
import shutil
import threading
import time

import pytest
from fastapi.testclient import TestClient

from tests.conftest import MODELS, SERVICE_ADMIN_KEY, SERVICE_KEY
from triage.store.folder import resolve_model_dir, save, set_current
from triage.errors import ModelError
from service.holder import LoadResult, ModelHolder

KEY = {"X-API-Key": SERVICE_KEY}
ADMIN = {"X-API-Key": SERVICE_ADMIN_KEY}
BATCH = {"items": [{"id": i, "text": t} for i, t in enumerate(
    ["园区门口路灯坏了三天了", "续贷下周到期，过桥资金利息太高", "热压机压出来的板子老鼓泡", "有人冒用我们的商标", "留抵退税三个月没到账"])]}


def wait_for(condition, what, timeout=300.0):
    """Wait (not a timed assertion: the bound only stops a hung test) until ``condition()``."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def versions(tmp_path_factory, shipped):
    """A models folder with the shipped version (current) and 'v2', the same model saved again."""
    root = tmp_path_factory.mktemp("models")
    v1 = resolve_model_dir(MODELS).name
    shutil.copytree(MODELS / v1, root / v1)
    (root / "CURRENT").write_text(v1 + "\n", encoding="utf-8")
    save(shipped, root, shipped.card_["data"], version="v2")
    return root, v1, "v2"


def serving(root, shipped):
    holder = ModelHolder(root)
    holder.set(shipped)
    return holder


def test_reload_under_concurrent_requests_fails_none(service_app, versions, shipped):
    root, v1, v2 = versions
    set_current(root, v1)
    holder = serving(root, shipped)
    outcomes, stop = [], threading.Event()

    with TestClient(service_app(holder=holder, model_dir=root)) as client:
        def hammer():
            while not stop.is_set():
                r = client.post("/v1/triage", json=BATCH, headers=KEY)
                body = r.json()
                outcomes.append((r.status_code, body.get("model_version"), [x["id"] for x in body.get("results", [])]))

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            swaps = []
            for version in (v2, v1):
                before = len(outcomes)
                wait_for(lambda: len(outcomes) >= before + 4, "requests before the swap")
                set_current(root, version)
                r = client.post("/v1/admin/reload", headers=ADMIN)
                swaps.append((r.status_code, r.json()["previous_version"], r.json()["version"]))
                after = len(outcomes)
                wait_for(lambda: len(outcomes) >= after + 4, "requests after the swap")
        finally:
            stop.set()
            for t in threads:
                t.join()
    assert swaps == [(200, v1, v2), (200, v2, v1)]
    assert {status for status, _, _ in outcomes} == {200}
    assert {ids == [0, 1, 2, 3, 4] for _, _, ids in outcomes} == {True}
    seen = [version for _, version, _ in outcomes]
    assert set(seen) == {v1, v2} and seen[-1] == v1
    assert holder.version == v1


def test_a_request_in_flight_finishes_on_the_old_model(service_app, versions, shipped, monkeypatch):
    root, v1, v2 = versions
    set_current(root, v2)
    holder = serving(root, shipped)
    entered, release, answers = threading.Event(), threading.Event(), {}
    real = shipped.predict_batch

    def gated(*args):
        entered.set()
        release.wait(300)
        return real(*args)

    monkeypatch.setattr(shipped, "predict_batch", gated)
    monkeypatch.setattr("service.routes.INLINE_CHARS", 0)  # in the thread pool, so the gate blocks no one else
    with TestClient(service_app(holder=holder, model_dir=root)) as client:
        slow = threading.Thread(target=lambda: answers.setdefault("slow", client.post("/v1/triage", json=BATCH, headers=KEY)))
        slow.start()
        entered.wait(300)
        reload = client.post("/v1/admin/reload", headers=ADMIN)  # the v2 model is a fresh object, not gated
        fresh = client.post("/v1/triage", json=BATCH, headers=KEY)
        release.set()
        slow.join()
    assert reload.status_code == 200 and reload.json()["version"] == v2
    assert fresh.status_code == 200 and fresh.json()["model_version"] == v2
    assert answers["slow"].status_code == 200 and answers["slow"].json()["model_version"] == v1


def tamper(root, source, name, how):
    target = root / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(root / source, target)
    if how == "flipped byte":
        data = bytearray((target / "scorer.npz").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (target / "scorer.npz").write_bytes(bytes(data))
    elif how == "missing file":
        (target / "scorer.npz").unlink()
    elif how == "edited taxonomy":
        text = (target / "taxonomy.json").read_text("utf-8")
        (target / "taxonomy.json").write_text(text.replace("区税务局", "区财政局"), "utf-8")
    return target


@pytest.mark.parametrize("how, message", [
    ("flipped byte", "does not match its model card"),
    ("missing file", "missing scorer.npz"),
    ("edited taxonomy", "does not match its model card"),
])
def test_a_tampered_or_broken_version_is_refused_and_the_old_one_stays(service_app, versions, shipped, how, message):
    root, v1, v2 = versions
    tamper(root, v2, "v3", how)
    set_current(root, "v3")
    holder = serving(root, shipped)
    try:
        with TestClient(service_app(holder=holder, model_dir=root)) as client:
            r = client.post("/v1/admin/reload", headers=ADMIN)
            assert r.status_code == 409
            err = r.json()["error"]
            assert err["code"] == "model_refused" and message in err["message"]
            assert err["message"].endswith(f"; still serving version {v1}")
            assert client.get("/v1/model", headers=KEY).json()["version"] == v1
            assert client.get("/readyz").status_code == 200
            r = client.post("/v1/triage", json=BATCH, headers=KEY)
            assert r.status_code == 200 and r.json()["model_version"] == v1
    finally:
        set_current(root, v1)


def test_current_naming_a_missing_version_is_refused(service_app, versions, shipped):
    root, v1, _ = versions
    (root / "CURRENT").write_text("v9\n", encoding="utf-8")
    try:
        with TestClient(service_app(holder=serving(root, shipped), model_dir=root)) as client:
            r = client.post("/v1/admin/reload", headers=ADMIN)
            assert r.status_code == 409 and "names version 'v9'" in r.json()["error"]["message"]
            assert client.get("/readyz").json()["model_version"] == v1
    finally:
        set_current(root, v1)


def test_a_model_that_cannot_predict_is_refused(shipped):
    class Broken:
        card_ = {"version": "broken"}

        def predict_batch(self, *args):
            raise ValueError("vocabulary missing")

    holder = ModelHolder(MODELS, loader=lambda folder: Broken())
    holder.set(shipped)
    with pytest.raises(ModelError, match=r"could not be loaded \(ValueError: vocabulary missing\); still serving"):
        holder.load()
    assert holder.get() is shipped and holder.error == "ValueError: vocabulary missing"


def test_a_second_reload_while_one_runs_gets_409(service_app, shipped):
    gate, started = threading.Event(), threading.Event()

    def slow_loader(folder):
        started.set()
        gate.wait(300)
        return shipped

    holder = ModelHolder(MODELS, loader=slow_loader)
    holder.set(shipped)
    with TestClient(service_app(holder=holder)) as client:
        first = {}
        t = threading.Thread(target=lambda: first.setdefault("r", client.post("/v1/admin/reload", headers=ADMIN)))
        t.start()
        started.wait(300)
        second = client.post("/v1/admin/reload", headers=ADMIN)
        gate.set()
        t.join()
    assert second.status_code == 409 and second.json()["error"]["code"] == "reload_in_progress"
    assert first["r"].status_code == 200


def test_not_ready_until_the_model_is_loaded_at_start_up(service_app, shipped):
    gate = threading.Event()
    holder = ModelHolder(MODELS, loader=lambda folder: gate.wait(300) and shipped)
    with TestClient(service_app(holder=holder)) as client:  # start-up begins the load in the background
        assert client.get("/healthz").status_code == 200
        r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["error"]["code"] == "model_loading"
        r = client.post("/v1/triage", json=BATCH, headers=KEY)
        assert r.status_code == 503 and r.json()["error"]["code"] == "model_loading" and r.headers["retry-after"] == "5"
        gate.set()
        wait_for(lambda: holder.ready, "the background load")
        assert client.get("/readyz").json()["model_version"] == shipped.card_["version"]
        assert client.post("/v1/triage", json=BATCH, headers=KEY).status_code == 200


def test_a_failed_start_up_load_is_reported_not_ready(service_app):
    def refuse(folder):
        raise ModelError("model.joblib does not match its model card")

    holder = ModelHolder(MODELS, loader=refuse)
    with TestClient(service_app(holder=holder)) as client:
        wait_for(lambda: holder.error is not None and not holder.loading, "the refused load")
        r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["error"]["code"] == "model_unavailable"
        r = client.get("/v1/taxonomy", headers=KEY)
        assert r.status_code == 503 and r.json()["error"]["code"] == "model_unavailable"
        assert "joblib" not in r.text  # server paths and reasons stay in the log


def test_other_workers_follow_an_announced_reload(tmp_path, shipped):
    signal = tmp_path / "reload.json"
    asked = []
    follower = ModelHolder(MODELS, loader=lambda folder: asked.append(folder) or shipped)
    follower.set(shipped)
    thread = follower.follow(signal, interval=0.02)
    try:
        (tmp_path / "v2-folder").mkdir()
        (tmp_path / "v2-folder" / "card.json").write_text("{}", encoding="utf-8")
        ModelHolder.announce(signal, LoadResult("old", "v2", str(tmp_path / "v2-folder"), 1.0))
        wait_for(lambda: asked, "the follower to load the announced version")
    finally:
        thread.stop.set()
        thread.join()
    assert asked == [tmp_path / "v2-folder"]
