"""Load test of the station API on loopback: requests per second and p50/p99 latency for
single-opinion and 100-opinion requests to POST /v1/triage.

    python benchmarks/service_load.py                    # full: 15 s per scenario, 1 worker
    python benchmarks/service_load.py --workers 1 2      # once per worker count
    python benchmarks/service_load.py --small            # the CI mode: 2 s per scenario
    python benchmarks/service_load.py --url http://127.0.0.1:8000 --key KEY   # a server already running

Without --url it starts ``triage serve`` itself on a free 127.0.0.1 port with a fresh API
key, waits for /readyz, runs each scenario for a bounded time (closed loop: every client
sends its next request when the previous answer arrives), stops the server, prints a table
and writes JSON (default benchmarks/results/service_load.json). It only ever talks to this
machine. The clients run on the same CPUs as the server, so on a small machine they take
part of its capacity: the figures are a floor, not a ceiling.
"""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import platform
import secrets
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="CI mode: 2 s per scenario, 2 clients")
    ap.add_argument("--seconds", type=float, help="length of each scenario (default 15, small 2)")
    ap.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), default=["single", "batch100"])
    ap.add_argument("--concurrency", type=int, nargs="+",
                    help="clients per scenario, in the order of --scenarios (default 8 for single, 4 for batches; small 2)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1], help="worker counts to start the server with")
    ap.add_argument("--model", help="model folder for the started server (default: the shipped model)")
    ap.add_argument("--url", help="drive this already running server instead (loopback only)")
    ap.add_argument("--key", default=os.environ.get("TRIAGE_BENCH_KEY"), help="API key for --url (or TRIAGE_BENCH_KEY)")
    ap.add_argument("--ready-timeout", type=float, default=300)
    ap.add_argument("--note", default="", help="free text stored in the JSON (e.g. which library commit was served)")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "service_load.json"))
    a = ap.parse_args(argv)
    seconds = a.seconds or (2.0 if a.small else 15.0)
    default_c = {"single": 8, "batch100": 4, "batch1000": 1}
    conc = a.concurrency or [2 if a.small else default_c[s] for s in a.scenarios]
    if len(conc) != len(a.scenarios):
        ap.error(f"--concurrency: expected {len(a.scenarios)} values (one per scenario), found {len(conc)}")
    pool = texts(2000)
    runs = []
    for workers in ([None] if a.url else a.workers):
        if a.url:
            url, key, server, ready_s = loopback_only(a.url), a.key, None, None
            if not key:
                ap.error("--url needs --key (or TRIAGE_BENCH_KEY)")
        else:
            key = secrets.token_urlsafe(24)
            server = Server(workers, a.model, key)
            url = server.url
            ready_s = server.wait_ready(a.ready_timeout, workers)
        try:
            for name, c in zip(a.scenarios, conc):
                r = asyncio.run(scenario(url, key, name, SCENARIOS[name], c, seconds, pool))
                runs.append({"workers": workers, "ready_seconds": round(ready_s, 1) if ready_s else None, **r})
        finally:
            if server is not None:
                server.stop()
    print(f"{'workers':>7} {'scenario':>9} {'clients':>7} {'requests':>8} {'errors':>6} {'req/s':>8} "
          f"{'opinions/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'load':>5}")
    for r in runs:
        print(f"{str(r['workers'] or '-'):>7} {r['scenario']:>9} {r['concurrency']:>7} {r['requests']:>8} "
              f"{r['errors']:>6} {r['requests_per_second']:>8.1f} {r['opinions_per_second']:>10.1f} "
              f"{r['p50_ms'] or 0:>8.1f} {r['p99_ms'] or 0:>8.1f} {r['load_average_before']:>5.2f}")
    out = {"benchmark": "service_load", "mode": "small" if a.small else "full", "seconds_per_scenario": seconds,
           "machine": machine(), "note": a.note, "results": runs}
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(f"written {a.json}")
    return 1 if any(r["errors"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
