"""The real server: ``triage serve`` in a subprocess on a free loopback port, called over
HTTP and stopped; and the load benchmark's small mode, so that it cannot rot."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import ROOT, SERVICE_ADMIN_KEY, SERVICE_KEY


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, proc, log, status=None, timeout=300.0):
    """Poll ``url`` until it answers (with ``status`` if given); the bound only stops a hung
    test, nothing is timed."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"triage serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            r = httpx.get(url, timeout=5)
            if status is None or r.status_code == status:
                return r
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"no answer from {url}:\n{log.read_text()}")


def worker_processes(pid: int) -> list[int]:
    """The worker processes ``triage serve`` started (children running multiprocessing's spawn)."""
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        for child in open(f"/proc/{pid}/task/{task}/children").read().split():
            try:
                cmd = open(f"/proc/{child}/cmdline", "rb").read()
            except OSError:
                continue
            if b"spawn_main" in cmd:
                out.append(int(child))
    return out


@pytest.mark.parametrize("workers", [1, 2])
def test_triage_serve_answers_over_http_and_stops(tmp_path, workers):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(TRIAGE_API_KEYS=SERVICE_KEY, TRIAGE_ADMIN_KEYS=SERVICE_ADMIN_KEY)
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "triage", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", str(workers)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        assert wait_for(url + "/healthz", proc, log).json() == {"status": "ok"}  # alive first...
        assert wait_for(url + "/readyz", proc, log, status=200).json()["status"] == "ready"  # ...ready once loaded
        key = {"X-API-Key": SERVICE_KEY}
        r = httpx.post(url + "/v1/triage", headers=key, timeout=60, json={"items": [
            {"id": "a", "text": "从林农手里收的原木开不出收购发票，联系人王建国经理13812345678", "intake_date": "2025-06-25"},
            {"id": "b", "text": "园区门口路灯坏了三天了"}]})
        assert r.status_code == 200
        results = r.json()["results"]
        assert [(x["id"], x["category"]) for x in results] == [("a", "tax"), ("b", "infrastructure")]
        assert results[0]["deadline"] is not None
        r = httpx.get(url + "/v1/model", timeout=60)
        assert r.status_code == 401 and r.json()["error"]["code"] == "missing_api_key"
        r = httpx.get(url + "/v1/lookup?tel=13812345678", headers=key, timeout=60)
        assert r.status_code == 404
        if workers > 1:  # each worker listens on its own socket (service/workers.py)
            end = time.monotonic() + 60  # (a bound for a hung test, nothing is timed)
            while len(worker_processes(proc.pid)) != workers and time.monotonic() < end:
                time.sleep(0.1)
            assert len(worker_processes(proc.pid)) == workers, log.read_text()
            for _ in range(2 * workers):  # every worker answers, whichever gets the connection
                assert wait_for(url + "/readyz", proc, log, status=200).json()["status"] == "ready"
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(120)
    assert code == 0
    text = log.read_text()
    assert "POST /v1/triage 200" in text and "client=api#1 items=2" in text
    assert "GET /v1/lookup?tel=[手机号] 404" in text
    assert "13812345678" not in text and "王建国" not in text and SERVICE_KEY not in text
    assert text.rstrip().endswith("stopped")


def test_load_benchmark_small_mode(tmp_path):
    import shutil

    out = tmp_path / "service_load.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "service_load.py"), "--small", "--seconds", "1",
                           "--json", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    assert report["mode"] == "small" and report["machine"]["cpus"] == os.cpu_count()
    rows = {r["scenario"]: r for r in report["results"]}
    assert set(rows) == {"single", "batch100"}
    for name, batch in (("single", 1), ("batch100", 100)):
        row = rows[name]
        assert row["items_per_request"] == batch and row["errors"] == 0 and row["requests"] >= 1
        assert row["statuses"] == {"200": row["requests"]}
        assert row["p50_ms"] <= row["p99_ms"] and row["requests_per_second"] > 0
        assert row["tool"] in ("wrk", "python") and row["tool"] == report["tool"]
    assert "req/s" in done.stdout and "p99 ms" in done.stdout
    if shutil.which("wrk"):
        assert report["tool"] == "wrk"


def test_workers_refuse_a_tampered_model_and_the_server_stops(tmp_path, shipped):
    import shutil

    version = tmp_path / "v"
    shutil.copytree(shipped.path_, version)
    data = bytearray((version / "scorer.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (version / "scorer.npz").write_bytes(bytes(data))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(TRIAGE_API_KEYS=SERVICE_KEY)
    done = subprocess.run([sys.executable, "-m", "triage", "serve", "--port", str(free_port()), "--workers", "2",
                           "--model", str(version)], env=env, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 3
    assert "the model could not be loaded" in done.stderr and "does not match its model card" in done.stderr
    assert "Traceback" not in done.stderr
