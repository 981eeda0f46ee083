"""Faults: a killed batch job, a full disk, a tampered model."""
import errno
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from tests.conftest import DATA
from triage.errors import OutputError
from triage.files.write import TableWriter


def test_disk_full_while_writing_gives_a_clear_error_and_no_file(tmp_path, monkeypatch):
    out = tmp_path / "out.csv"
    writer = TableWriter(out)
    writer.write(pd.DataFrame({"text": ["a"]}))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    with pytest.raises(OutputError, match=r"could not write .*out.csv: No space left on device; nothing was written"):
        writer.write(pd.DataFrame({"text": ["b"]}))
    assert list(tmp_path.iterdir()) == []


def test_disk_full_through_the_cli_is_one_line_exit_1(tmp_path, monkeypatch, capsys):
    from triage.cli.main import main

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)  # the disk fills up while the output is flushed
    code = main(["classify", str(DATA / "samples" / "2025-06.csv"), "-o", str(tmp_path / "o.csv"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert err == "Error: could not write output o.csv: No space left on device; nothing was written\n"
    assert str(tmp_path) not in err
    assert list(tmp_path.iterdir()) == []


def test_killed_batch_job_leaves_no_output_and_can_be_rerun(tmp_path):
    corpus = pd.read_csv(DATA / "corpus.csv", dtype=str)
    src = tmp_path / "big.csv"
    corpus.sample(n=30000, replace=True, random_state=1)[["id", "text"]].to_csv(src, index=False)
    out = tmp_path / "out.csv"
    proc = subprocess.Popen([sys.executable, "-m", "triage", "classify", str(src), "-o", str(out), "--quiet",
                             "--chunk-size", "500"], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.csv.*.tmp")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the job finished before it could be killed; use a bigger input"
    time.sleep(0.5)  # let it write a few chunks
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    leftovers = list(tmp_path.glob(".out.csv.*.tmp"))
    assert len(leftovers) == 1  # the killed run's temporary file, never the output itself
    small = tmp_path / "small.csv"
    corpus.head(50)[["id", "text"]].to_csv(small, index=False)
    done = subprocess.run([sys.executable, "-m", "triage", "classify", str(small), "-o", str(out), "--quiet"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(out)) == 50
    assert not list(tmp_path.glob(".out.csv.*.tmp"))  # the stale temporary was cleaned up
