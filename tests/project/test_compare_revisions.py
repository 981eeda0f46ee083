"""benchmarks/compare_revisions.py runs two revisions side by side and reports both."""
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_compare_revisions_small_reports_every_measure_for_both_sides():
    r = subprocess.run([sys.executable, "benchmarks/compare_revisions.py", "--before", "HEAD", "--small", "--jobs", "1"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    last = json.loads(r.stdout.strip().splitlines()[-1])
    assert [x["measure"] for x in last["results"]] == ["import+load", "classify 1 row", "classify 2000 rows, jobs 1"]
    for x in last["results"]:
        assert x["before_s"] > 0 and x["after_s"] > 0
        assert x["after_over_before"] == pytest.approx(x["after_s"] / x["before_s"], abs=0.002)  # from unrounded medians
    big = last["results"][2]
    assert big["after_texts_per_s"] == pytest.approx(2000 / big["after_s"], rel=0.002)
