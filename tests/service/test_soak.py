"""The short version of benchmarks/soak.py: a real `triage serve` on loopback, concurrent
clients for 10 s, a model reload in the middle. Zero failed requests, the reload done and
answered by the new model, resident memory growth under the stated bound (a memory bound,
not a timing: latency and throughput are only reported), no key or personal number in the
server log."""
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # a real server under load for 10 s


def test_short_soak_with_a_reload_in_the_middle_loses_nothing(tmp_path):
    out = tmp_path / "soak.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "soak.py"), "--seconds", "10", "--clients", "4",
                           "--json", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=900)
    report = json.loads(out.read_text())
    assert done.returncode == 0 and report["passed"], done.stdout + done.stderr
    assert report["failures"] == 0 and report["failed"] == []
    assert report["statuses"] == {"200": report["requests"]}
    reload = report["reload"]
    assert reload["status"] == 200 and reload["ok"]
    assert (reload["response"]["previous_version"], reload["response"]["version"]) == ("soak-v1", "soak-v2")
    assert report["versions_answered"]["soak-v1"] >= 1 and report["versions_answered"]["soak-v2"] >= 1
    assert report["v1_answers_started_after_reload"] == 0  # one worker: once swapped, only the new model answers
    rss = report["rss"]
    assert [rss[m]["processes"] >= 1 for m in ("idle", "start", "middle", "end")] == [True] * 4
    assert report["rss_bound_mb"] == 75.0
    assert report["rss_growth_mb"] == round(rss["end"]["total_mb"] - rss["start"]["total_mb"], 1)
    assert report["rss_growth_mb"] <= report["rss_bound_mb"]
    assert report["log_leaks"] == {"mobile_numbers": 0, "id_numbers": 0, "keys": 0}
    assert report["server_exit_code"] == 0
    assert "PASS" in done.stdout and "p99 ms" in done.stdout and "RSS MB" in done.stdout
