"""Peak memory of `triage classify` stays flat however long the file: ten times the rows
must not cost more than FLAT_BOUND_MB of peak resident memory.

The larger file is the smaller one's rows ten times over (with their own ids), so it is made
of the very same chunks and only holding on to rows can make its peak higher. Each row
carries a 1,000-character `notes` column that classify copies through to its output: a job
that held the whole table instead of streaming it would keep ~55 MB more of input alone on
the larger file, plus the results; the control test shows the measurement sees that much.
A third test runs the million-row file the station may meet when it imports a year of
hotline archives (id and text only, about 100 MB), through the process pool as a user would
run it, and compares its peak with that of 10,000 rows of the same kind."""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DATA, ROOT

SMALL, LARGE, CHUNK = 6_000, 60_000, 1_000
FLAT_BOUND_MB = 10.0
NOTE = "备注：" + "x" * 997  # 1,000 characters
pytestmark = pytest.mark.slow  # 60,000 and a million rows

# Runs a command in a fresh process and prints the peak RSS (kB) of the largest child it
# waited for: one measurement per process, so runs never mix.
_PEAK = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def peak_rss_mb(*cmd: str) -> float:
    done = subprocess.run([sys.executable, "-c", _PEAK, *cmd], capture_output=True, text=True, cwd=ROOT, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.strip().splitlines()[-1]) / 1024


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big")
    corpus = pd.read_csv(DATA / "corpus.csv", dtype=str, keep_default_na=False)
    paths = {}
    texts = corpus["text"].sample(n=SMALL, replace=True, random_state=0).to_numpy()
    for rows in (SMALL, LARGE):
        paths[rows] = folder / f"opinions_{rows}.csv"
        frame = pd.DataFrame({"id": range(rows), "text": np.tile(texts, rows // SMALL), "notes": NOTE})
        frame.to_csv(paths[rows], index=False)
    return paths


def test_peak_memory_of_classify_is_flat_from_6000_to_60000_rows(inputs, tmp_path):
    peaks = {}
    for rows, src in inputs.items():
        out = tmp_path / f"out_{rows}.csv"
        peaks[rows] = peak_rss_mb(sys.executable, "-m", "triage", "classify", str(src), "-o", str(out), "--quiet",
                                  "--chunk-size", str(CHUNK))
        written = pd.read_csv(out, dtype=str, keep_default_na=False, usecols=["id", "notes", "category"])
        assert len(written) == rows and written["id"].tolist() == [str(i) for i in range(rows)]
        assert (written["notes"] == NOTE).all() and (written["category"] != "").all()
        out.unlink()
    growth = peaks[LARGE] - peaks[SMALL]
    print(f"\npeak RSS of triage classify, chunk {CHUNK}: {SMALL} rows {peaks[SMALL]:.1f} MB, "
          f"{LARGE} rows {peaks[LARGE]:.1f} MB, growth {growth:+.1f} MB (bound {FLAT_BOUND_MB} MB)")
    assert growth < FLAT_BOUND_MB, peaks


def test_the_measurement_sees_a_job_that_holds_the_whole_file(inputs):
    """Control: reading the whole table at once shows a growth well over the bound, so the
    flat result above is not a blind measurement."""
    hold = "import sys, pandas; frame = pandas.read_csv(sys.argv[1], dtype=str); print(len(frame))"
    peaks = {rows: peak_rss_mb(sys.executable, "-c", hold, str(src)) for rows, src in inputs.items()}
    print(f"\npeak RSS of reading the whole file: {SMALL} rows {peaks[SMALL]:.1f} MB, {LARGE} rows {peaks[LARGE]:.1f} MB")
    assert peaks[LARGE] - peaks[SMALL] > 3 * FLAT_BOUND_MB, peaks


MILLION, TEN_THOUSAND = 1_000_000, 10_000
# Two runs measured +5.2 and +8.1 MB from 10,000 to 1,000,000 rows (allocator noise of the
# pool's processes); a job holding the million-row input alone would add well over 100 MB (a
# million Python strings of 79 Chinese characters take about 220 MB).
MILLION_BOUND_MB = 25.0


def test_peak_memory_is_flat_at_a_million_rows(tmp_path):
    corpus = pd.read_csv(DATA / "corpus.csv", dtype=str, keep_default_na=False)["text"].to_numpy()
    peaks = {}
    for rows in (TEN_THOUSAND, MILLION):
        src, out = tmp_path / f"in_{rows}.csv", tmp_path / f"out_{rows}.csv"
        pd.DataFrame({"id": range(rows), "text": np.resize(corpus, rows)}).to_csv(src, index=False)
        peaks[rows] = peak_rss_mb(sys.executable, "-m", "triage", "classify", str(src), "-o", str(out), "--quiet",
                                  "--jobs", "2")
        written = pd.read_csv(out, dtype=str, keep_default_na=False, usecols=["id", "category"])
        assert len(written) == rows and written["id"].iloc[-1] == str(rows - 1)
        assert (written["category"] != "").all()
        src.unlink()
        out.unlink()
    growth = peaks[MILLION] - peaks[TEN_THOUSAND]
    print(f"\npeak RSS of triage classify --jobs 2 (largest process): {TEN_THOUSAND} rows {peaks[TEN_THOUSAND]:.1f} MB, "
          f"{MILLION} rows {peaks[MILLION]:.1f} MB, growth {growth:+.1f} MB (bound {MILLION_BOUND_MB} MB)")
    assert growth < MILLION_BOUND_MB, peaks


# --- worker processes end with their parent ---------------------------------------------------
def _children(pid: int) -> list[int]:
    from pathlib import Path

    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _gone(pid: int) -> bool:
    """Ended: no such process, or a zombie waiting for whoever adopted it to reap it."""
    from pathlib import Path

    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; the pool's death signal is Linux's")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_killing_classify_jobs_2_leaves_no_worker_alive(tmp_path, how):
    import os
    import signal
    import time

    corpus = pd.read_csv(DATA / "corpus.csv", dtype=str, keep_default_na=False)["text"].to_numpy()
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame({"id": range(200_000), "text": np.resize(corpus, 200_000)}).to_csv(src, index=False)
    proc = subprocess.Popen([sys.executable, "-m", "triage", "classify", str(src), "-o", str(out), "--quiet",
                             "--jobs", "2", "--chunk-size", "500"], cwd=ROOT, stderr=subprocess.PIPE)
    workers: list = []
    for _ in range(1200):  # up to two minutes for the model to load and the pool to start
        workers = _children(proc.pid)
        if len(workers) >= 2 or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert proc.poll() is None and len(workers) >= 2, "the pool never started; use a bigger input"
    os.kill(proc.pid, getattr(signal, how))
    proc.wait(timeout=30)
    for _ in range(100):  # a few seconds at most
        if all(_gone(w) for w in workers):
            break
        time.sleep(0.1)
    assert [w for w in workers if not _gone(w)] == []
    assert not out.exists()
    if how == "SIGTERM":  # the parent itself shut the pool down and said so
        assert proc.returncode == 130
        assert proc.stderr.read().decode().strip().endswith("Error: interrupted; no output was written")
