"""The README's two commands are the ones that work: the first installs and classifies the
sample month (its classify step is run here), the second is the test command CI runs."""
from __future__ import annotations

import re
import subprocess

import pandas as pd

from tests.conftest import ROOT, SAMPLE
from tests.project.test_docs import shell_workspace

README = (ROOT / "README.md").read_text(encoding="utf-8")
FIRST = ("python3 -m venv .venv && . .venv/bin/activate && pip install . && "
         "triage classify data/samples/2025-06.csv -o out.xlsx")
SECOND = "scripts/test"


def bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)


def test_readme_starts_with_the_two_newcomer_commands():
    first, second = bash_blocks()[:2]
    assert first == FIRST
    assert second == SECOND


def test_first_command_classifies_the_sample_month(tmp_path):
    classify = FIRST.split(" && ")[-1]
    work, env = shell_workspace(tmp_path, ROOT / "models")
    r = subprocess.run(["bash", "-c", classify], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = pd.read_excel(work / "out.xlsx", dtype=str).rename(columns=machine_name)
    sample = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    assert len(out) == len(sample) == 120
    assert out["text"].fillna("").tolist() == sample["text"].tolist()
    texts = out[out["text"].notna()]
    # every opinion has a category, except the few that are no enterprise opinion: they have their kind
    assert (texts["category"].notna() | texts["out_of_scope_kind"].notna()).all()
    assert texts["category"].notna().sum() >= 110


def machine_name(header: str) -> str:
    """'类别 category' (a workbook for people) or 'category' -> 'category'."""
    return re.sub(r"^[^\x00-\x7f]+\s+", "", str(header)).replace(" ", "_")


def test_second_command_is_the_script_ci_runs():
    script = ROOT / SECOND
    assert script.is_file(), f"{SECOND} is missing"
    assert script.stat().st_mode & 0o111, f"{SECOND} is not executable"
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    commands = [ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    runs_it = [c for c in commands if re.match(rf"(exec\s+)?(bash\s+)?(\./)?{re.escape(SECOND)}(\s|$)", c)]
    assert runs_it, f".ci/run does not run {SECOND}"
