"""The README's commands are the ones that work."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_newcomer_commands():
    blocks = re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)
    first, second = blocks[0], blocks[1]
    assert "pip install . && triage classify data/samples/2025-06.csv -o out.csv" in first
    assert (ROOT / "data/samples/2025-06.csv").is_file()
    assert second.endswith("pip install -e '.[dev]' && python -m pytest -q")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    assert ci.rstrip().splitlines()[-1] == 'exec bash scripts/test --durations=15 "$@"'  # tests/project/test_scripts_test.py
