"""Load test of the station API on loopback: requests per second and p50/p99 latency for
single-opinion and 100-opinion requests to POST /v1/triage.

    python benchmarks/service_load.py                    # full: single and batch100 at 1, 16, 64 connections, 2 workers, 15 s each
    python benchmarks/service_load.py --workers 1 2      # once per worker count
    python benchmarks/service_load.py --concurrency 16   # one concurrency level for every scenario
    python benchmarks/service_load.py --small            # the CI mode: 2 s per point, 2 connections, 1 worker
    python benchmarks/service_load.py --tool python      # the httpx client instead of wrk
    python benchmarks/service_load.py --url http://127.0.0.1:8000 --key KEY   # a server already running

Without --url it starts ``triage serve`` itself on a free 127.0.0.1 port with a fresh API
key, waits for /readyz, runs every scenario at every concurrency level for a bounded time
(closed loop: every connection sends its next request when the previous answer arrives),
stops the server, prints a table and writes JSON (default
benchmarks/results/service_load.json). It only ever talks to this machine.

The load generator is ``wrk`` when it is installed (Debian package ``wrk``), else a Python
httpx client (``--tool python``). The client shares the machine's CPUs (two on the reference
box) with the server, and wrk costs far less CPU per request than a Python client, so it
leaves the server most of the machine and measures what the server can do rather than what
the client can send. wrk sends one fixed body per scenario (built from the same corpus texts
as the Python client); after each wrk run one real request with that body must answer 200
with every opinion classified, since wrk itself only sees status codes. The figures are
still a floor, not a ceiling: even wrk takes some of the CPU.
"""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import platform
import math
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = {"single": 1, "batch100": 100, "batch1000": 1000}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_only(url: str) -> str:
    host = urlparse(url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise SystemExit(f"error: this benchmark only drives a server on this machine (127.0.0.1, ::1, localhost); "
                         f"found {host!r}")
    return url.rstrip("/")


def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "cpu": cpu, "machine": platform.machine(),
            "system": f"{platform.system()} {platform.release()}"}


def texts(n: int, seed: int = 0) -> list[str]:
    corpus = pd.read_csv(ROOT / "data" / "corpus.csv", dtype=str, keep_default_na=False)
    return corpus["text"].sample(n=n, replace=True, random_state=seed).tolist()


class Server:
    """``triage serve`` in a subprocess, its log in a temporary file."""

    def __init__(self, workers: int, model: str | None, key: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="triage-serve-", suffix=".log", delete=False)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
        env.update(TRIAGE_API_KEYS=key)
        if os.environ.get("TRIAGE_MODELS_DIR"):
            env["TRIAGE_MODELS_DIR"] = os.environ["TRIAGE_MODELS_DIR"]
        cmd = [sys.executable, "-m", "triage", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--workers", str(workers)] + (["--model", model] if model else [])
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)

    def wait_ready(self, timeout: float, workers: int) -> float:
        """Seconds until /readyz answered 200 on 5 x workers fresh connections in a row."""
        start, streak = time.perf_counter(), 0
        while streak < 5 * workers:
            if self.proc.poll() is not None:
                raise SystemExit(f"error: triage serve exited with {self.proc.returncode}:\n{self.tail()}")
            if time.perf_counter() - start > timeout:
                self.stop()
                raise SystemExit(f"error: the server was not ready after {timeout:.0f} s:\n{self.tail()}")
            try:
                streak = streak + 1 if httpx.get(self.url + "/readyz", timeout=5).status_code == 200 else 0
            except httpx.HTTPError:
                streak = 0
            if streak == 0:
                time.sleep(0.5)
        return time.perf_counter() - start

    def tail(self, n: int = 20) -> str:
        return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> int:
        self.proc.terminate()
        try:
            code = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)
        return code


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


async def scenario(url: str, key: str, name: str, batch: int, concurrency: int, seconds: float, pool: list[str]) -> dict:
    headers = {"X-API-Key": key}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies, errors, statuses = [], 0, {}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=120) as client:
        def body(i: int) -> dict:
            picked = [pool[(i * batch + j) % len(pool)] for j in range(batch)]
            return {"items": [{"id": j, "text": t} for j, t in enumerate(picked)]}

        for i in range(min(3, concurrency)):  # warm-up, not counted
            await client.post("/v1/triage", json=body(i))
        counter = iter(range(10**9))
        deadline = time.perf_counter() + seconds

        async def one_client():
            nonlocal errors
            while time.perf_counter() < deadline:
                payload = body(next(counter))
                t0 = time.perf_counter()
                try:
                    r = await client.post("/v1/triage", json=payload)
                    status = r.status_code
                    ok = status == 200 and r.json()["count"] == batch
                except httpx.HTTPError as exc:
                    status, ok = type(exc).__name__, False
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if ok:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors += 1

        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    return {"scenario": name, "items_per_request": batch, "concurrency": concurrency, "seconds": round(elapsed, 2),
            "requests": len(latencies), "errors": errors, "statuses": statuses,
            "requests_per_second": round(len(latencies) / elapsed, 2),
            "opinions_per_second": round(len(latencies) * batch / elapsed, 1),
            "p50_ms": round(percentile(ms, 50), 1) if ms else None, "p90_ms": round(percentile(ms, 90), 1) if ms else None,
            "p99_ms": round(percentile(ms, 99), 1) if ms else None, "max_ms": round(max(ms), 1) if ms else None,
            "load_average_before": round(load_before, 2)}


# --- wrk ----------------------------------------------------------------------------------

WRK_DONE = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKJSON {\"requests\": %d, \"duration_us\": %d, \"errors_connect\": %d, "
    .. "\"errors_read\": %d, \"errors_write\": %d, \"errors_status\": %d, \"errors_timeout\": %d, "
    .. "\"p50_us\": %d, \"p90_us\": %d, \"p99_us\": %d, \"max_us\": %d}\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(90)),
    math.floor(latency:percentile(99)), math.floor(latency.max)))
end
"""
WRK_TIMEOUT_S = 60  # per request; wrk's own default (2 s) would count slow batch answers as errors


def wrk_version(wrk: str) -> str | None:
    """First line of ``wrk -v`` without the copyright (``wrk -v`` exits 1 after its usage)."""
    try:
        out = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (out.stdout + out.stderr).strip().splitlines()
    return lines[0].split(" Copyright")[0].strip() if lines else None


def lua_long_string(value: str) -> str:
    if "]==]" in value or "\n" in value or "\r" in value:
        raise SystemExit(f"error: cannot put this text into a Lua long string: {value[:80]!r}")
    return f"[==[{value}]==]"


def fixed_body(batch: int, pool: list[str]) -> dict:
    """The body wrk sends on every request: the same texts the Python client sends first."""
    return {"items": [{"id": str(j), "text": pool[j % len(pool)]} for j in range(batch)]}


def wrk_script(key: str, body: str) -> str:
    return (f'wrk.method = "POST"\n'
            f'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["X-API-Key"] = {lua_long_string(key)}\n'
            f'wrk.body = {lua_long_string(body)}\n' + WRK_DONE)


def wrk_scenario(wrk: str, url: str, key: str, name: str, batch: int, concurrency: int, seconds: float,
                 pool: list[str]) -> dict:
    payload = fixed_body(batch, pool)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        for _ in range(3):  # warm-up, not counted
            client.post("/v1/triage", content=body.encode("utf-8"))
    whole_s = max(1, math.ceil(seconds))  # wrk takes whole seconds
    threads = min(2, concurrency)
    with tempfile.NamedTemporaryFile("w", prefix=f"service-load-{name}-", suffix=".lua", encoding="utf-8",
                                     delete=False) as f:
        f.write(wrk_script(key, body))
    try:
        cmd = [wrk, "-t", str(threads), "-c", str(concurrency), "-d", f"{whole_s}s", "--timeout",
               f"{WRK_TIMEOUT_S}s", "--latency", "-s", f.name, url + "/v1/triage"]
        load_before = os.getloadavg()[0]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=whole_s + WRK_TIMEOUT_S + 60)
        except subprocess.TimeoutExpired:
            raise SystemExit(f"error: wrk did not finish: {' '.join(cmd)}")
    finally:
        Path(f.name).unlink(missing_ok=True)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"error: wrk failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    w = json.loads(line[len("WRKJSON "):])
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:  # wrk only sees status codes
        check = client.post("/v1/triage", content=body.encode("utf-8"))
    check_ok = check.status_code == 200 and check.json().get("count") == batch
    if not check_ok:
        print(f"error: {name}: a request with the wrk body answered {check.status_code}: {check.text[:300]}",
              file=sys.stderr)
    elapsed = w["duration_us"] / 1e6
    socket_errors = {k: w[f"errors_{k}"] for k in ("connect", "read", "write", "timeout")}
    errors = w["errors_status"] + sum(socket_errors.values()) + (0 if check_ok else 1)
    ok = w["requests"] - w["errors_status"]
    statuses = {"200": ok, "non-2xx": w["errors_status"], **socket_errors}
    if not check_ok:
        statuses["check_failed"] = 1
    # wrk's percentiles cover every answer; like the Python path, none when no request succeeded
    ms = {q: round(w[f"{q}_us"] / 1000, 1) if ok else None for q in ("p50", "p90", "p99", "max")}
    return {"scenario": name, "items_per_request": batch, "concurrency": concurrency, "seconds": round(elapsed, 2),
            "requests": ok, "errors": errors, "statuses": {k: v for k, v in statuses.items() if v},
            "requests_per_second": round(ok / elapsed, 2), "opinions_per_second": round(ok * batch / elapsed, 1),
            "p50_ms": ms["p50"], "p90_ms": ms["p90"], "p99_ms": ms["p99"], "max_ms": ms["max"],
            "load_average_before": round(load_before, 2)}


TARGETS = {"single_requests_per_second_at_16": 1500, "single_p99_ms_at_16": 30, "batch_opinions_per_second": 6000}


def targets_met(runs: list[dict]) -> dict:
    """Each target against the rows measured with 2 workers; None when no such row exists.
    The batch target takes the best opinions/s of any multi-opinion scenario."""
    two = [r for r in runs if r["workers"] == 2]
    at16 = [r for r in two if r["scenario"] == "single" and r["concurrency"] == 16]
    batches = [r for r in two if r["items_per_request"] > 1]
    rps = max((r["requests_per_second"] for r in at16), default=None)
    p99s = [r["p99_ms"] for r in at16 if r["p99_ms"] is not None]
    ops = max((r["opinions_per_second"] for r in batches), default=None)
    return {"single_requests_per_second_at_16":
                None if rps is None else rps >= TARGETS["single_requests_per_second_at_16"],
            "single_p99_ms_at_16": None if not p99s else min(p99s) <= TARGETS["single_p99_ms_at_16"],
            "batch_opinions_per_second": None if ops is None else ops >= TARGETS["batch_opinions_per_second"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    wrk = shutil.which("wrk")
    ap.add_argument("--small", action="store_true",
                    help="CI mode: 2 s per point, concurrency 2, 1 worker (explicit options still override)")
    ap.add_argument("--seconds", type=float, help="length of each point (default 15, small 2; wrk rounds up to whole s)")
    ap.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), default=["single", "batch100"])
    ap.add_argument("--concurrency", type=int, nargs="+",
                    help="concurrency levels (connections, or clients with --tool python), each applied to every "
                         "scenario (default 1 16 64; small 2)")
    ap.add_argument("--workers", type=int, nargs="+", help="worker counts to start the server with (default 2; small 1)")
    ap.add_argument("--tool", choices=["wrk", "python"], default="wrk" if wrk else "python",
                    help="load generator: wrk (default when installed) or the Python httpx client")
    ap.add_argument("--model", help="model folder for the started server (default: the shipped model)")
    ap.add_argument("--url", help="drive this already running server instead (loopback only)")
    ap.add_argument("--key", default=os.environ.get("TRIAGE_BENCH_KEY"), help="API key for --url (or TRIAGE_BENCH_KEY)")
    ap.add_argument("--ready-timeout", type=float, default=300)
    ap.add_argument("--note", default="", help="free text stored in the JSON (e.g. which library commit was served)")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "service_load.json"))
    a = ap.parse_args(argv)
    if a.tool == "wrk" and not wrk:
        ap.error("--tool wrk: wrk is not installed (apt-get install wrk), use --tool python")
    if a.url and not a.key:
        ap.error("--url needs --key (or TRIAGE_BENCH_KEY)")
    seconds = a.seconds or (2.0 if a.small else 15.0)
    levels = a.concurrency or ([2] if a.small else [1, 16, 64])
    if any(c < 1 for c in levels):
        ap.error("--concurrency: every level must be at least 1")
    worker_counts = a.workers or ([1] if a.small else [2])
    tool_version = wrk_version(wrk) if a.tool == "wrk" else f"httpx {httpx.__version__}"
    pool = texts(2000)
    runs = []
    for workers in ([None] if a.url else worker_counts):
        if a.url:
            url, key, server, ready_s = loopback_only(a.url), a.key, None, None
        else:
            key = secrets.token_urlsafe(24)
            server = Server(workers, a.model, key)
            url = server.url
            ready_s = server.wait_ready(a.ready_timeout, workers)
        try:
            for name in a.scenarios:
                for c in levels:
                    if a.tool == "wrk":
                        r = wrk_scenario(wrk, url, key, name, SCENARIOS[name], c, seconds, pool)
                    else:
                        r = asyncio.run(scenario(url, key, name, SCENARIOS[name], c, seconds, pool))
                    runs.append({"workers": workers, "ready_seconds": round(ready_s, 1) if ready_s else None, **r,
                                 "tool": a.tool, "tool_version": tool_version})
        finally:
            if server is not None:
                server.stop()
    print(f"{'tool':>6} {'workers':>7} {'scenario':>9} {'clients':>7} {'requests':>8} {'errors':>6} {'req/s':>8} "
          f"{'opinions/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'load':>5}")
    for r in runs:
        print(f"{r['tool']:>6} {str(r['workers'] or '-'):>7} {r['scenario']:>9} {r['concurrency']:>7} "
              f"{r['requests']:>8} {r['errors']:>6} {r['requests_per_second']:>8.1f} {r['opinions_per_second']:>10.1f} "
              f"{r['p50_ms'] or 0:>8.1f} {r['p99_ms'] or 0:>8.1f} {r['load_average_before']:>5.2f}")
    out = {"benchmark": "service_load", "mode": "small" if a.small else "full", "seconds_per_scenario": seconds,
           "machine": machine(), "note": a.note, "tool": a.tool, "tool_version": tool_version, "results": runs,
           "targets": TARGETS, "targets_met": targets_met(runs)}
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"written {a.json}")
    return 1 if any(r["errors"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
