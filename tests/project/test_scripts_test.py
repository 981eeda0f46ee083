"""scripts/test, the README's test command (issue 13), and the no-skip rule it runs the suite under.

The script runs in a copy of scripts/ and .ci/ with a PATH of stand-ins only (dpkg-query, id,
sudo, apt-get, python3), so nothing is installed: every stand-in writes its command line to a
log. The python3 stand-in refuses `-m venv`, which ends the run right after the packages step."""
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import NO_DATABASE, ROOT

PACKAGES = "fonts-wqy-microhei chromium postgresql wrk"  # .ci/apt-packages.txt, in its order
APT = "apt-get -q -o DPkg::Lock::Timeout=600"


def tool(folder, name, body):
    path = folder / name
    path.write_text("#!/bin/bash\n" + body + "\n", encoding="utf-8")
    path.chmod(0o755)


@pytest.fixture
def run(tmp_path):
    """run(*args, uid=1000, installed=(), sudo=False) -> (exit status, stdout, stderr, log lines)."""
    repo, bin_, log = tmp_path / "repo", tmp_path / "bin", tmp_path / "log"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "test", repo / "scripts" / "test")
    shutil.copytree(ROOT / ".ci", repo / ".ci")
    bin_.mkdir()
    for name in ("cat", "dirname", "env", "true"):
        os.symlink(shutil.which(name), bin_ / name)
    tool(bin_, "apt-get", f'echo "apt-get $*" >>{log}')
    tool(bin_, "python3", f'if [ "$1" = -m ]; then echo "python3 $*" >>{log}; exit 3; fi; exec {sys.executable} "$@"')

    def go(*args, uid=1000, installed=(), sudo=False):
        tool(bin_, "id", f"echo {uid}")
        known = "|".join(installed or ["-"])  # dpkg-query -W -f=... PACKAGE: "installed" for these only
        tool(bin_, "dpkg-query", f'case "${{@: -1}}" in {known}) printf installed;; *) exit 1;; esac')
        if sudo:
            tool(bin_, "sudo", f'echo "sudo $*" >>{log}; [ "$1" = -n ] && shift; exec "$@"')
        done = subprocess.run(["/bin/bash", str(repo / "scripts" / "test"), *args], env={"PATH": str(bin_)},
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        return done.returncode, done.stdout, done.stderr, lines

    return go


def test_help_explains_fast_and_runs_nothing(run):
    assert os.access(ROOT / "scripts" / "test", os.X_OK)  # the README runs it as `scripts/test`
    status, out, err, log = run("--help")
    assert (status, err, log) == (0, "", [])
    assert out.startswith("Usage: scripts/test [--fast] [PYTEST ARGUMENTS...]\n")
    assert "--fast       leave out the long tests (marker `slow`" in out and "TRIAGE_TEST_FAST=1" in out


def test_without_root_or_sudo_it_names_each_package_and_the_command_then_stops(run):
    status, out, err, log = run()
    assert status == 1 and log == []  # nothing installed, no venv made
    lines = err.splitlines()
    assert lines[0] == "scripts/test: these Debian packages are needed by the tests and are not installed:"
    assert lines[1:5] == [f"    {name}" for name in PACKAGES.split()]
    assert re.fullmatch(rf"    apt-get update && apt-get install -y --no-install-recommends {PACKAGES}( python3-venv)?",
                        lines[-1])


def test_either_cjk_font_will_do(run):
    status, out, err, log = run(installed=("fonts-noto-cjk", "postgresql"))
    assert status == 1 and log == []
    assert "apt-get install -y --no-install-recommends chromium wrk" in err and "fonts-" not in err


def test_as_root_apt_get_updates_once_and_installs_only_what_is_missing(run):
    status, out, err, log = run(uid=0, installed=("fonts-wqy-microhei", "postgresql"))
    assert status == 3  # the python3 stand-in refused to make the venv
    assert log == [f"{APT} update -qq", f"{APT} install -y -qq --no-install-recommends chromium wrk",
                   "python3 -m venv .venv"]
    assert "scripts/test: installing Debian packages: chromium wrk" in out


def test_a_user_with_sudo_installs_through_sudo(run):
    status, out, err, log = run(installed=("fonts-wqy-microhei", "chromium", "postgresql"), sudo=True)
    assert status == 3
    assert log == ["sudo -n true",
                   f"sudo env DEBIAN_FRONTEND=noninteractive {APT} update -qq", f"{APT} update -qq",
                   f"sudo env DEBIAN_FRONTEND=noninteractive {APT} install -y -qq --no-install-recommends wrk",
                   f"{APT} install -y -qq --no-install-recommends wrk", "python3 -m venv .venv"]


def test_nothing_missing_means_no_apt_get_even_without_root(run):
    status, out, err, log = run(installed=("fonts-noto-cjk", "chromium", "postgresql", "wrk"))
    assert status == 3 and log == ["python3 -m venv .venv"]


CONFTEST = "from tests.conftest import pytest_runtest_makereport, register_db  # noqa: F401\n"
SAMPLE = '''import pytest


def test_skipped():
    pytest.skip("no thing here")


@pytest.mark.xfail(reason="known", strict=True)
def test_expected_failure():
    assert False


def test_register(register_db):
    assert register_db
'''


@pytest.mark.parametrize("no_skip", ["1", ""])
def test_a_skip_fails_under_scripts_test_and_postgresql_is_never_skipped(tmp_path, no_skip):
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("TRIAGE_TEST_DATABASE_URL", "TRIAGE_TEST_NO_SKIP")}
    env.update(PYTHONPATH=str(ROOT), TRIAGE_TEST_NO_SKIP=no_skip, COLUMNS="300")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    out = done.stdout
    assert done.returncode == 1, out
    assert NO_DATABASE in out  # the PostgreSQL variant fails, saying why, with or without the rule
    assert "PASSED test_sample.py::test_register[sqlite]" in out
    assert "XFAIL test_sample.py::test_expected_failure" in out
    if no_skip:
        assert "FAILED test_sample.py::test_skipped - skipped, and scripts/test allows no skip: no thing here" in out
        assert " skipped" not in out.splitlines()[-1]
    else:
        assert "SKIPPED [1] test_sample.py:5: no thing here" in out
