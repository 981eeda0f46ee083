"""Soak test of the station API: concurrent clients for a fixed time, a model reload in the
middle, zero failed requests, resident memory watched at start, middle and end.

    python benchmarks/soak.py                      # 60 s, 6 clients, 1 worker
    python benchmarks/soak.py --seconds 10         # the short version tests/test_soak.py runs
    python benchmarks/soak.py --workers 2          # the reload reaches the other worker through its signal file

The script makes a temporary models folder with two versions, ``soak-v1`` and ``soak-v2``:
the shipped model (or ``--model``) saved twice by this library, so both are in its current
file format and the reload is a real load of another folder. It starts ``triage serve`` on a free
127.0.0.1 port with fresh API and admin keys, waits for /readyz and then runs closed-loop
clients (each sends its next POST /v1/triage, of 1 to 20 opinions, when the previous answer
arrives). Halfway through it moves CURRENT to ``soak-v2`` and calls POST /v1/admin/reload
with the admin key. A request fails if it gets no answer, a status other than 200, or a
wrong number of results. Some opinions carry a mobile number and an ID-card number; the
server log is searched for them and for the keys afterwards.

Resident memory (VmRSS in /proc/PID/status) of the server and all its worker processes is
sampled once a second: `start` after the warm-up (the first 10% of the run, at least 2 s),
`middle` just before the reload, `end` when the clients stop. The bound is on growth from
start to end: 75 MB per worker process by default. A reload loads the new model before it
lets go of the old one and the freed memory is not always handed back to the system, so
about one model's worth (~35 MB for the shipped one) is expected; the growth from start to
middle, under load but before the reload, is reported apart and should stay near zero.

Prints a table and writes JSON (default benchmarks/results/soak.json). Exit code 0 when
there was no failed request, the reload succeeded and the growth stayed under the bound,
1 otherwise. It only ever talks to this machine; the clients share the CPUs with the
server, so latencies on a small machine are a floor of what the server can do alone.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PHONE, ID_NUMBER = "13812345678", "110101199003071234"  # synthetic, never real
V1, V2 = "soak-v1", "soak-v2"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_models(folder: Path, source: Path) -> tuple[Path, str]:
    """A models folder holding the model of ``source`` saved as V1 (current) and as V2."""
    from triage.store.folder import load, save, set_current

    model = load(source)
    for version in (V1, V2):
        save(model, folder, model.card_["data"], version=version)
    set_current(folder, V1)
    return folder, V1


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (uvicorn's worker processes), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_mb(pid: int) -> dict:
    """VmRSS in MB of ``pid`` and each descendant, and their total."""
    per = {}
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    per[p] = int(line.split()[1]) / 1024
        except OSError:
            pass
    return {"total_mb": round(sum(per.values()), 1), "processes": len(per),
            "per_process_mb": {str(k): round(v, 1) for k, v in sorted(per.items())}}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


class Server:
    def __init__(self, models: Path, workers: int, key: str, admin: str, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
        env.update(TRIAGE_API_KEYS=key, TRIAGE_ADMIN_KEYS=admin)
        cmd = [sys.executable, "-m", "triage", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--workers", str(workers), "--model", str(models)]
        with open(log, "w") as out:
            self.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)

    def wait_ready(self, workers: int, timeout: float) -> float:
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
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def opinion_pool(n: int = 2000, seed: int = 0) -> list[str]:
    corpus = pd.read_csv(ROOT / "data" / "corpus.csv", dtype=str, keep_default_na=False)
    texts = corpus["text"].sample(n=n, replace=True, random_state=seed).tolist()
    for i in range(0, n, 10):  # every tenth opinion carries personal numbers, as real notes do
        texts[i] += f"，联系电话{PHONE}，身份证{ID_NUMBER}"
    return texts


async def soak(server: Server, key: str, admin: str, models: Path, v1: str, clients: int, seconds: float,
               pool: list[str], seed: int) -> dict:
    from triage.store.folder import set_current

    rng = random.Random(seed)
    latencies, failures, statuses = [], [], {}
    versions = {v1: 0, V2: 0}
    v1_started_after_reload = 0
    reload: dict = {}
    limits = httpx.Limits(max_connections=clients + 2, max_keepalive_connections=clients + 2)
    start = time.perf_counter()
    warm_end = start + max(2.0, 0.1 * seconds)
    reload_at = start + seconds / 2
    stop_at = start + seconds
    samples: list[dict] = []
    marks: dict = {"idle": {"at_s": 0.0, **rss_mb(server.proc.pid)}}

    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}, limits=limits,
                                 timeout=120) as client:
        async def one_client(n: int):
            nonlocal v1_started_after_reload
            i = 0
            while time.perf_counter() < stop_at:
                size = rng.choice((1, 1, 1, 5, 20))
                items = [{"id": f"c{n}-{i}-{j}", "text": rng.choice(pool)} for j in range(size)]
                i += 1
                t0 = time.perf_counter()
                after_reload = reload.get("done_at") is not None and t0 > reload["done_at"]
                try:
                    r = await client.post("/v1/triage", json={"items": items})
                    status = r.status_code
                    body = r.json() if status == 200 else {}
                    ok = status == 200 and body.get("count") == size and \
                        [x["id"] for x in body["results"]] == [x["id"] for x in items]
                except (httpx.HTTPError, ValueError) as exc:
                    status, ok, body = type(exc).__name__, False, {}
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if ok:
                    latencies.append(time.perf_counter() - t0)
                    version = body.get("model_version")
                    versions[version] = versions.get(version, 0) + 1
                    if version == v1 and after_reload:
                        v1_started_after_reload += 1
                else:
                    failures.append({"at_s": round(t0 - start, 2), "status": status, "items": size})

        async def sampler():
            while time.perf_counter() < stop_at:
                now = time.perf_counter()
                sample = {"at_s": round(now - start, 1), **rss_mb(server.proc.pid)}
                samples.append({"at_s": sample["at_s"], "total_mb": sample["total_mb"]})
                if "start" not in marks and now >= warm_end:
                    marks["start"] = sample
                await asyncio.sleep(1.0)

        async def reloader():
            await asyncio.sleep(max(0.0, reload_at - time.perf_counter()))
            marks["middle"] = {"at_s": round(time.perf_counter() - start, 1), **rss_mb(server.proc.pid)}
            set_current(models, V2)
            t0 = time.perf_counter()
            reload["at_s"] = round(t0 - start, 2)
            try:
                r = await client.post("/v1/admin/reload", headers={"X-API-Key": admin})
                reload.update(status=r.status_code, response=r.json())
            except (httpx.HTTPError, ValueError) as exc:
                reload.update(status=type(exc).__name__, response=None)
            reload["seconds"] = round(time.perf_counter() - t0, 2)
            reload["done_at"] = time.perf_counter()

        await asyncio.gather(sampler(), reloader(), *(one_client(n) for n in range(clients)))
    elapsed = time.perf_counter() - start
    marks["end"] = {"at_s": round(elapsed, 1), **rss_mb(server.proc.pid)}
    marks.setdefault("start", marks["idle"])
    marks.setdefault("middle", marks["start"])
    reload.pop("done_at", None)
    reload["ok"] = reload.get("status") == 200 and (reload.get("response") or {}).get("version") == V2 \
        and versions.get(V2, 0) > 0
    ms = [x * 1000 for x in latencies]
    return {"seconds": round(elapsed, 1), "clients": clients, "requests": len(latencies) + len(failures),
            "ok": len(latencies), "failures": len(failures), "failed": failures[:20], "statuses": statuses,
            "requests_per_second": round(len(latencies) / elapsed, 2),
            "p50_ms": round(percentile(ms, 50), 1) if ms else None,
            "p99_ms": round(percentile(ms, 99), 1) if ms else None,
            "max_ms": round(max(ms), 1) if ms else None,
            "versions_answered": versions, "v1_answers_started_after_reload": v1_started_after_reload,
            "reload": reload, "rss": marks, "rss_samples": samples}


def log_leaks(text: str, secrets_: list[str]) -> dict:
    """Personal numbers or keys found in the server log (each must be 0)."""
    digits = re.sub(r"(?<=\d)[ -](?=\d)", "", text)
    return {"mobile_numbers": digits.count(PHONE), "id_numbers": digits.count(ID_NUMBER),
            "keys": sum(text.count(s) for s in secrets_)}


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the run (default 60)")
    ap.add_argument("--clients", type=int, default=6, help="concurrent clients (default 6)")
    ap.add_argument("--workers", type=int, default=1, help="worker processes of the server (default 1)")
    ap.add_argument("--model", default=str(ROOT / "models"), help="models folder or version folder to serve first")
    ap.add_argument("--rss-bound-mb", type=float,
                    help="allowed growth of the server's resident memory from start to end (default 75 per worker)")
    ap.add_argument("--ready-timeout", type=float, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "soak.json"))
    a = ap.parse_args(argv)
    if a.seconds < 4:
        ap.error(f"--seconds: at least 4 (warm-up, reload in the middle, time after it), found {a.seconds}")
    bound = a.rss_bound_mb if a.rss_bound_mb is not None else 75.0 * a.workers
    key, admin = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="triage-soak-") as tmp:
        models, v1 = make_models(Path(tmp) / "models", Path(a.model))
        log = Path(tmp) / "serve.log"
        server = Server(models, a.workers, key, admin, log)
        try:
            ready_s = server.wait_ready(a.workers, a.ready_timeout)
            result = asyncio.run(soak(server, key, admin, models, v1, a.clients, a.seconds, opinion_pool(), a.seed))
        finally:
            code = server.stop()
        leaks = log_leaks(log.read_text(errors="replace"), [key, admin])
    rss = result["rss"]
    growth = round(rss["end"]["total_mb"] - rss["start"]["total_mb"], 1)
    steady = round(rss["middle"]["total_mb"] - rss["start"]["total_mb"], 1)
    passed = (result["failures"] == 0 and result["reload"]["ok"] and growth <= bound
              and not any(leaks.values()))
    report = {"benchmark": "soak", "machine": machine(), "workers": a.workers, "ready_seconds": round(ready_s, 1),
              "served_first": v1, "reloaded_to": V2, **result, "rss_growth_mb": growth,
              "rss_growth_before_reload_mb": steady, "rss_bound_mb": bound, "log_leaks": leaks,
              "server_exit_code": code, "passed": passed}
    out = Path(a.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    r = result
    print(f"soak: {r['seconds']:.0f} s, {r['clients']} clients, {a.workers} worker(s), {os.cpu_count()} CPUs")
    print(f"{'requests':>9} {'failed':>7} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    print(f"{r['requests']:>9} {r['failures']:>7} {r['requests_per_second']:>7.1f} {r['p50_ms'] or 0:>8.1f} "
          f"{r['p99_ms'] or 0:>8.1f} {r['max_ms'] or 0:>8.1f}")
    rl = r["reload"]
    print(f"reload at {rl.get('at_s')} s: status {rl.get('status')}, {rl.get('seconds')} s, "
          f"{v1} -> {(rl.get('response') or {}).get('version')}; answers per version {r['versions_answered']}")
    print(f"{'RSS MB':>9} {'idle':>8} {'start':>8} {'middle':>8} {'end':>8} {'growth':>8} {'bound':>8}"
          f" {'before reload':>14}")
    print(f"{'':>9} {rss['idle']['total_mb']:>8.1f} {rss['start']['total_mb']:>8.1f} {rss['middle']['total_mb']:>8.1f} "
          f"{rss['end']['total_mb']:>8.1f} {growth:>8.1f} {bound:>8.1f} {steady:>14.1f}")
    print(f"log: {leaks['mobile_numbers']} mobile numbers, {leaks['id_numbers']} ID numbers, {leaks['keys']} keys")
    print(f"{'PASS' if passed else 'FAIL'}; JSON in {out}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
