"""Batch throughput of `triage classify`, end to end, with peak memory, beside the usual
jieba + scikit-learn pipeline on the same data.

    python benchmarks/batch.py                      # 100,000 and 1,000,000 opinions resampled from the corpus,
                                                    # all of it (79 characters on average) and its opinions of
                                                    # 50 to 80 characters (59 on average, the target's "about 60")
    python benchmarks/batch.py --teddy ../shared/benchmarks/teddy2020c   # also the raw Teddy Cup texts (~430 chars)
    python benchmarks/batch.py --small              # the CI mode: 2,000 rows, each pipeline once

Each triage measurement is repeated (``--repeat``, default 3; inputs above 200,000 rows once)
and the median is reported; the peer runs once (``--peer-repeat``).

Every run is a separate process started from the command line (`python -m triage classify
IN -o OUT`, with its default flags unless ``--jobs N`` is given), timed from start to exit: start-up, reading, classifying and writing
the output file all count. Memory is sampled every 250 ms over the process and its workers:
the peak of the summed resident memory (RSS) and of the summed proportional memory (PSS,
which counts pages shared between processes once).

The peer pipeline is what the published Teddy Cup solutions use: ``TfidfVectorizer(
tokenizer=jieba.lcut)`` + ``LinearSVC``, trained on the corpus categories, in one process,
reading and writing the same files chunk by chunk (``--peer-max-rows`` bounds the inputs it
gets, since it is slow). Prints a table and writes JSON (default benchmarks/results/batch.json).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 5000
SAMPLE_SECONDS = 0.25  # memory sampling interval (reading /proc costs the machine a little too)


# ------------------------------------------------------------------------------ inputs
def make_input(texts: list[str], rows: int, path: Path, seed: int = 0) -> dict:
    picked = pd.Series(texts).sample(n=rows, replace=True, random_state=seed).to_numpy()
    pd.DataFrame({"id": range(rows), "text": picked}).to_csv(path, index=False)
    chars = int(sum(map(len, picked)))
    return {"path": path, "rows": rows, "chars": chars, "mean_chars": round(chars / rows, 1)}


def corpus_texts(lo: int = 0, hi: int = 10**9) -> list[str]:
    """The corpus opinions of ``lo`` to ``hi`` characters."""
    texts = pd.read_csv(ROOT / "data" / "corpus.csv", dtype=str, keep_default_na=False)["text"]
    return texts[texts.str.len().between(lo, hi)].tolist()


SETS = {"corpus": (0, 10**9), "corpus60": (50, 80)}  # name -> (shortest, longest) opinion taken from the corpus


def teddy_texts(folder: Path) -> list[str]:
    raw = pd.read_csv(folder / "raw.csv", dtype=str, keep_default_na=False)
    return raw["text"].tolist()


# ------------------------------------------------------------------------------ memory
def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _tree(pid: int) -> list[int]:
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += _children(p)
    return seen


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB; (0, 0) if it is gone."""
    try:
        rss = pss = 0
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
        return rss, pss
    except (OSError, ValueError, IndexError):
        return 0, 0


def run_measured(cmd: list[str], env: dict | None = None) -> dict:
    """Run ``cmd`` to completion; wall seconds and the peaks of summed RSS and PSS (MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_rss = peak_pss = 0
    while proc.poll() is None:
        rss = pss = 0
        for pid in _tree(proc.pid):
            r, p = _memory_kb(pid)
            rss, pss = rss + r, pss + p
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(SAMPLE_SECONDS)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace")
    if proc.returncode:
        raise SystemExit(f"error: {' '.join(map(str, cmd))} exited with {proc.returncode}:\n{err[-2000:]}")
    return {"seconds": seconds, "peak_rss_mb": round(peak_rss / 1024, 1), "peak_pss_mb": round(peak_pss / 1024, 1)}


# ------------------------------------------------------------------------------ pipelines
def run_triage(data: dict, jobs: str, model: str | None) -> dict:
    """``jobs`` "auto" runs the command with its defaults (no --jobs flag), as a user would."""
    out = data["path"].with_name(data["path"].stem + f"_triage_j{jobs}.csv")
    cmd = [sys.executable, "-m", "triage", "classify", str(data["path"]), "-o", str(out), "--quiet"]
    cmd += ([] if jobs == "auto" else ["--jobs", str(jobs)]) + (["--model", model] if model else [])
    r = run_measured(cmd)
    out.unlink()
    return r


def jieba_tokens(text: str) -> list[str]:
    """The peer's tokenizer (``jieba.lcut`` itself holds a lock and cannot be saved)."""
    import jieba

    return jieba.lcut(text)


def train_peer(path: Path) -> None:
    """The usual pipeline, trained on the corpus categories and saved with joblib."""
    import warnings

    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    corpus = pd.read_csv(ROOT / "data" / "corpus.csv", dtype=str, keep_default_na=False)
    with warnings.catch_warnings():  # "token_pattern is ignored when tokenizer is given"
        warnings.simplefilter("ignore")
        pipe = make_pipeline(TfidfVectorizer(tokenizer=jieba_tokens), LinearSVC())
        pipe.fit(corpus["text"], corpus["category"])
    joblib.dump(pipe, path)


def peer_main(model: str, src: str, dst: str) -> int:
    """What the peer process runs: load, then read, classify and write chunk by chunk."""
    import warnings

    import joblib

    warnings.simplefilter("ignore")
    pipe = joblib.load(model)
    first = True
    with open(dst, "w", encoding="utf-8", newline="") as fh:
        for chunk in pd.read_csv(src, dtype=str, keep_default_na=False, chunksize=CHUNK):
            chunk["category"] = pipe.predict(chunk["text"])
            chunk.to_csv(fh, index=False, header=first)
            first = False
    return 0


def run_peer(data: dict, model: Path) -> dict:
    out = data["path"].with_name(data["path"].stem + "_peer.csv")
    r = run_measured([sys.executable, str(Path(__file__).resolve()), "--peer-run", str(model), str(data["path"]),
                      str(out)])
    out.unlink()
    return r


# ------------------------------------------------------------------------------ report
def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal"))
    except (OSError, StopIteration, ValueError):
        mem = None
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "cpu": cpu, "machine": platform.machine(),
            "memory_gb": round(mem / 1024 ** 2, 1) if mem else None}


def row(name: str, pipeline: str, jobs, data: dict, runs: list[dict]) -> dict:
    seconds = statistics.median(r["seconds"] for r in runs)
    return {"data": name, "pipeline": pipeline, "jobs": jobs, "rows": data["rows"], "mean_chars": data["mean_chars"],
            "repeats": len(runs), "seconds": round(seconds, 2), "seconds_all": [round(r["seconds"], 2) for r in runs],
            "texts_per_second": round(data["rows"] / seconds, 1), "chars_per_second": round(data["chars"] / seconds),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "peak_pss_mb": max(r["peak_pss_mb"] for r in runs)}


def print_table(results: list[dict], ratios: list[dict]) -> None:
    print(f"{'data':<9} {'rows':>9} {'chars':>6} {'pipeline':<33} {'jobs':>4} {'seconds':>8} {'texts/s':>9} "
          f"{'chars/s':>10} {'RSS MB':>7} {'PSS MB':>7}")
    for r in results:
        print(f"{r['data']:<9} {r['rows']:>9} {r['mean_chars']:>6.0f} {r['pipeline']:<33} {str(r['jobs']):>4} "
              f"{r['seconds']:>8.2f} {r['texts_per_second']:>9.0f} {r['chars_per_second']:>10.0f} "
              f"{r['peak_rss_mb']:>7.1f} {r['peak_pss_mb']:>7.1f}")
    for q in ratios:
        print(f"{q['data']} {q['rows']} rows: triage (jobs {q['jobs']}) is {q['ratio']:.1f} x the peer pipeline")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000], help="corpus input sizes")
    ap.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS),
                    help="corpus inputs: all opinions (corpus), those of 50-80 characters (corpus60)")
    ap.add_argument("--jobs", nargs="+", default=["auto"],
                    help="worker counts for triage classify; auto (the default) runs it with its default flags")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each triage measurement, the median reported (default 3; once above 200,000 rows)")
    ap.add_argument("--peer-repeat", type=int, default=1, help="runs of each peer measurement (default 1)")
    ap.add_argument("--peer-max-rows", type=int, default=100_000, help="largest input the peer pipeline gets")
    ap.add_argument("--teddy", type=Path, help="folder of the Teddy Cup data (raw.csv): also time its raw texts")
    ap.add_argument("--teddy-rows", type=int, default=20_000, help="rows resampled from the Teddy raw texts")
    ap.add_argument("--model", help="model folder (default: the shipped model)")
    ap.add_argument("--small", action="store_true", help="CI mode: 2,000 rows, each pipeline once")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "batch.json"))
    ap.add_argument("--peer-run", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.peer_run:
        return peer_main(*a.peer_run)
    if a.small:  # both paths of the command, one process and the pool, whatever auto would pick
        a.rows, a.repeat, a.peer_repeat, a.teddy_rows, a.sets, a.jobs = [2000], 1, 1, 2000, ["corpus"], ["1", "2"]
    a.jobs = [j if j == "auto" else int(j) for j in a.jobs]
    results, ratios, load_at_start = [], [], os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="triage-batch-") as tmp:
        tmp = Path(tmp)
        peer_model = tmp / "peer.joblib"
        train_peer(peer_model)
        inputs = [(name, make_input(corpus_texts(*SETS[name]), n, tmp / f"{name}_{n}.csv")) for name in a.sets
                  for n in a.rows]
        if a.teddy:
            inputs.append(("teddy", make_input(teddy_texts(a.teddy), a.teddy_rows, tmp / f"teddy_{a.teddy_rows}.csv")))
        for name, data in inputs:
            best = None
            repeat = a.repeat if data["rows"] <= 200_000 else 1
            for jobs in a.jobs:
                r = row(name, "triage classify", jobs, data, [run_triage(data, jobs, a.model) for _ in range(repeat)])
                results.append(r)
                best = r if best is None or r["texts_per_second"] > best["texts_per_second"] else best
                print(f"  {name} {data['rows']} jobs {jobs}: {r['texts_per_second']:.0f} texts/s", file=sys.stderr)
            if data["rows"] <= a.peer_max_rows:
                peer = row(name, "jieba+TfidfVectorizer+LinearSVC", 1, data,
                           [run_peer(data, peer_model) for _ in range(a.peer_repeat)])
                results.append(peer)
                ratios.append({"data": name, "rows": data["rows"], "jobs": best["jobs"],
                               "ratio": round(best["texts_per_second"] / peer["texts_per_second"], 2)})
    print_table(results, ratios)
    info = machine()
    info["load_average_at_start"], info["load_average_at_end"] = load_at_start, os.getloadavg()
    out = {"benchmark": "batch", "machine": info, "chunk_size": CHUNK, "results": results, "ratios": ratios,
           "targets": {"texts_per_second": 20_000, "ratio_to_peer": 5, "peak_memory_mb_at_1m_rows": 400}}
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
