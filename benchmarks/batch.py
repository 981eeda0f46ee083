"""Batch throughput of `triage classify`, end to end, with peak memory.

    python benchmarks/batch.py                  # 100,000 opinions resampled from the corpus
    python benchmarks/batch.py --rows 2000      # the small mode CI runs

Prints a table and writes JSON (default benchmarks/results/batch.json). Each run is a
separate `triage classify` process, so its peak resident memory is measured alone."""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def make_input(rows: int, folder: Path, seed: int = 0) -> Path:
    corpus = pd.read_csv(ROOT / "data" / "corpus.csv", dtype=str)
    sample = corpus.sample(n=rows, replace=True, random_state=seed)
    path = folder / f"opinions_{rows}.csv"
    pd.DataFrame({"id": range(rows), "text": sample["text"].to_numpy()}).to_csv(path, index=False)
    return path


def run_classify(src: Path, jobs: int) -> dict:
    out = src.with_name(src.stem + f"_out_j{jobs}.csv")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "triage", "classify", str(src), "-o", str(out), "--quiet",
                    "--jobs", str(jobs)], check=True)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out.unlink()
    return {"seconds": seconds, "peak_rss_mb": round(max(peak_kb, before) / 1024, 1),
            "peak_is_max_of_processes_so_far": peak_kb == before}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "batch.json"))
    a = ap.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        src = make_input(a.rows, Path(tmp))
        chars = int(pd.read_csv(src, dtype=str)["text"].str.len().sum())
        for jobs in a.jobs:
            r = run_classify(src, jobs)
            results.append({"rows": a.rows, "jobs": jobs, "seconds": round(r["seconds"], 2),
                            "texts_per_second": round(a.rows / r["seconds"], 1),
                            "chars_per_second": round(chars / r["seconds"], 1), "peak_rss_mb": r["peak_rss_mb"]})
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine()}
    print(f"{'rows':>9} {'jobs':>4} {'seconds':>8} {'texts/s':>9} {'chars/s':>10} {'peak MB':>8}")
    for r in results:
        print(f"{r['rows']:>9} {r['jobs']:>4} {r['seconds']:>8.2f} {r['texts_per_second']:>9.0f} "
              f"{r['chars_per_second']:>10.0f} {r['peak_rss_mb']:>8.1f}")
    out = {"benchmark": "batch", "machine": machine, "results": results}
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
