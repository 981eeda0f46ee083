"""Batch speed and start-up of two revisions of the project, measured side by side in one run.

    python benchmarks/compare_revisions.py --before 9c0baa7          # this checkout against that commit
    python benchmarks/compare_revisions.py --before main~5 --rows 50000 --repeat 3

Each revision is exported with ``git archive`` into a temporary folder (its own code and its
own shipped model) and run with the same interpreter and packages; the measurements of the two
alternate (before, after, before, after ...) so a change in the machine's load hits both.

* ``import+load``: a fresh ``python -c`` that imports ``triage``, loads the shipped model and
  triages one opinion (seconds from process start, measured inside the process).
* ``classify 1 row``: ``python -m triage classify`` of a one-row file, process start to exit.
* ``classify N rows``: the same on N corpus opinions, with ``--jobs 1`` and ``--jobs 2``; texts/s.

Prints one table of medians and the after/before ratios; the last line is one JSON object.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOAD = ("import sys, time; t0 = time.perf_counter(); import triage; m = triage.load(sys.argv[1]); "
        "m.predict('热压机坏了，师傅说要换配件'); print(round(time.perf_counter() - t0, 4))")


def export(rev: str, dest: Path) -> Path:
    """The tree of ``rev`` (a commit, or ``WORKTREE`` for this checkout as it is) in ``dest``."""
    if rev == "WORKTREE":
        return ROOT
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", rev], cwd=ROOT, capture_output=True, check=True).stdout
    tar = dest / "rev.tar"
    tar.write_bytes(archive)
    with tarfile.open(tar) as t:
        t.extractall(dest, filter="data")
    tar.unlink()
    return dest


def make_input(rows: int, path: Path) -> Path:
    with open(ROOT / "data" / "corpus.csv", encoding="utf-8") as fh:
        texts = [r["text"] for r in csv.DictReader(fh)]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        for i in range(rows):
            w.writerow([i, texts[i % len(texts)]])
    return path


def _env(tree: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), TRIAGE_DATA_DIR=str(tree / "data"),
               TRIAGE_MODELS_DIR=str(tree / "models"))
    return env


def load_seconds(tree: Path) -> float:
    r = subprocess.run([sys.executable, "-c", LOAD, str(tree / "models")], env=_env(tree), cwd=tree,
                       capture_output=True, text=True, check=True)
    return float(r.stdout.strip().splitlines()[-1])


def classify_seconds(tree: Path, src: Path, out: Path, jobs: int | None) -> float:
    cmd = [sys.executable, "-m", "triage", "classify", str(src), "-o", str(out), "--quiet"]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=_env(tree), cwd=tree, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"Error: {' '.join(cmd[2:5])} failed in {tree.name}: {r.stderr.strip()[-300:]}")
    return seconds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="git revision to compare against (e.g. a commit before a refactor)")
    ap.add_argument("--after", default="WORKTREE", help="git revision, or WORKTREE for this checkout (default)")
    ap.add_argument("--rows", type=int, default=200_000, help="opinions in the batch input (default 200,000)")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="worker counts to time (default 1 2)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement; medians reported (default 3)")
    ap.add_argument("--small", action="store_true", help="CI mode: 2,000 rows, one run each")
    a = ap.parse_args(argv)
    if a.small:
        a.rows, a.repeat = 2000, 1
    with tempfile.TemporaryDirectory(prefix="triage-compare-") as tmp:
        tmp = Path(tmp)
        trees = {"before": export(a.before, tmp / "before"), "after": export(a.after, tmp / "after")}
        one, big = make_input(1, tmp / "one.csv"), make_input(a.rows, tmp / "big.csv")
        times: dict[tuple, list[float]] = {}
        for _ in range(a.repeat):
            for side, tree in trees.items():
                times.setdefault(("import+load", side), []).append(load_seconds(tree))
                times.setdefault(("classify 1 row", side), []).append(classify_seconds(tree, one, tmp / "o1.csv", 1))
                for jobs in a.jobs:
                    s = classify_seconds(tree, big, tmp / "ob.csv", jobs)
                    times.setdefault((f"classify {a.rows} rows, jobs {jobs}", side), []).append(s)
    rows = []
    for what in dict.fromkeys(k[0] for k in times):
        b, f = statistics.median(times[(what, "before")]), statistics.median(times[(what, "after")])
        per_s = what.startswith("classify") and "rows" in what
        rows.append({"measure": what, "before_s": round(b, 3), "after_s": round(f, 3),
                     "after_over_before": round(f / b, 3),
                     **({"before_texts_per_s": round(a.rows / b), "after_texts_per_s": round(a.rows / f)} if per_s else {})})
    print(f"{'measure':<32} {'before s':>9} {'after s':>9} {'after/before':>13} {'texts/s before':>15} {'after':>8}")
    for r in rows:
        print(f"{r['measure']:<32} {r['before_s']:>9.3f} {r['after_s']:>9.3f} {r['after_over_before']:>13.3f} "
              f"{r.get('before_texts_per_s', ''):>15} {r.get('after_texts_per_s', ''):>8}")
    print(json.dumps({"before": a.before, "after": a.after, "rows": a.rows, "repeat": a.repeat, "results": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
