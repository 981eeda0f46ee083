"""Start-up: seconds from process start to ready, each in a fresh process.

    python benchmarks/startup.py            # 7 runs of each, the median reported
    python benchmarks/startup.py --small    # the CI mode: 2 runs, no server

* ``library``: ``python -c "import triage; triage.load(MODELS).warm_up()"`` and one
  prediction: the model loaded (hashes checked), the segmenter and its user dictionary
  initialised, the lookup tables built.
* ``classify``: ``triage classify`` of a one-row file, process start to exit.
* ``serve``: ``triage serve`` (one worker) until ``/readyz`` answers 200 (the server
  answers it only once the model is loaded and warmed up).

Prints a table and writes JSON (default benchmarks/results/startup.json).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY = "READY"
LIBRARY = ("import sys, time; t0 = time.perf_counter(); import triage; "
           "m = triage.load(sys.argv[1]).warm_up(); p = m.predict('热压机坏了，师傅说要换配件'); "
           "print('%s', round(time.perf_counter() - t0, 4), 'sklearn' in sys.modules, flush=True)" % READY)


def _model(model: str | None) -> str:
    if model:
        return model
    sys.path.insert(0, str(ROOT))
    from triage import paths

    return str(paths.models_dir())


def time_library(model: str) -> dict:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", LIBRARY, model], capture_output=True, text=True, cwd=ROOT)
    total = time.perf_counter() - start
    if done.returncode or READY not in done.stdout:
        raise SystemExit(f"error: the library run failed:\n{done.stderr[-2000:]}")
    _, inside, sklearn = done.stdout.split()
    return {"seconds": total, "seconds_inside_python": float(inside), "imports_sklearn": sklearn == "True"}


def time_classify(model: str, folder: Path) -> dict:
    src, dst = folder / "one.csv", folder / "one_out.csv"
    src.write_text("id,text\n1,园区门口的路灯坏了三天了\n", encoding="utf-8")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "triage", "classify", str(src), "-o", str(dst), "--quiet",
                           "--model", model], capture_output=True, text=True, cwd=ROOT)
    total = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"error: triage classify failed:\n{done.stderr[-2000:]}")
    return {"seconds": total}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_serve(model: str, timeout: float = 120.0) -> dict:
    import httpx

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["TRIAGE_API_KEYS"] = secrets.token_hex(16)
    cmd = [sys.executable, "-m", "triage", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
           "--model", model]
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"error: triage serve exited with {proc.returncode}:\n"
                                     f"{log.read().decode('utf-8', 'replace')[-2000:]}")
                if time.perf_counter() - start > timeout:
                    raise SystemExit(f"error: triage serve was not ready after {timeout:.0f} s")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                        return {"seconds": time.perf_counter() - start}
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def summarise(name: str, runs: list[dict]) -> dict:
    secs = [r["seconds"] for r in runs]
    out = {"what": name, "runs": len(runs), "median_seconds": round(statistics.median(secs), 3),
           "min_seconds": round(min(secs), 3), "max_seconds": round(max(secs), 3)}
    if "imports_sklearn" in runs[0]:
        out["imports_sklearn"] = any(r["imports_sklearn"] for r in runs)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7, help="runs of each (the median is reported)")
    ap.add_argument("--model", help="model folder (default: the shipped model)")
    ap.add_argument("--no-serve", action="store_true", help="skip the server")
    ap.add_argument("--small", action="store_true", help="CI mode: 2 runs, no server")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "startup.json"))
    a = ap.parse_args(argv)
    if a.small:
        a.repeat, a.no_serve = 2, True
    model = _model(a.model)
    results = []
    with tempfile.TemporaryDirectory(prefix="triage-startup-") as tmp:
        results.append(summarise("library: load + warm-up + 1 prediction", [time_library(model) for _ in range(a.repeat)]))
        results.append(summarise("triage classify, 1 row (start to exit)",
                                 [time_classify(model, Path(tmp)) for _ in range(a.repeat)]))
    if not a.no_serve:
        results.append(summarise("triage serve until /readyz is 200", [time_serve(model) for _ in range(a.repeat)]))
    print(f"{'what':<42} {'median s':>9} {'min':>7} {'max':>7}")
    for r in results:
        print(f"{r['what']:<42} {r['median_seconds']:>9.3f} {r['min_seconds']:>7.3f} {r['max_seconds']:>7.3f}")
    out = {"benchmark": "startup", "target_seconds": 1.5, "machine": {
        "python": platform.python_version(), "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()},
        "results": results}
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
