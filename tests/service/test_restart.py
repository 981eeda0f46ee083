"""Workers end with their parent, and a restarted server never shares its port with old
workers (issue 13, fault 5): a real ``triage serve --workers 2`` killed with SIGKILL leaves no
worker behind, a server restarted with new keys refuses the old key 20 times out of 20, and a
port another process listens on is refused at start-up in one line."""
import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from tests.conftest import ROOT, SERVICE_ADMIN_KEY, SERVICE_KEY
from tests.service.test_serve import free_port, wait_for, worker_processes

NEW_KEY = "rotated-key-after-restart-01"


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start(port: int, keys: str, log, workers: int = 2) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(TRIAGE_API_KEYS=keys, TRIAGE_ADMIN_KEYS=SERVICE_ADMIN_KEY)
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "triage", "serve", "--port", str(port), "--workers",
                                 str(workers)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def test_killed_master_takes_its_workers_and_a_restart_refuses_the_old_key(tmp_path):
    port, url = free_port(), None
    url = f"http://127.0.0.1:{port}"
    first = start(port, SERVICE_KEY, tmp_path / "first.log")
    second = None
    try:
        wait_for(url + "/readyz", first, tmp_path / "first.log", status=200)
        end = time.monotonic() + 120  # bounds a hung test; nothing is timed
        while len(worker_processes(first.pid)) != 2 and time.monotonic() < end:
            time.sleep(0.1)
        workers = worker_processes(first.pid)
        assert len(workers) == 2
        for _ in range(4):
            wait_for(url + "/readyz", first, tmp_path / "first.log", status=200)  # both workers listening
        first.send_signal(signal.SIGKILL)
        first.wait(60)
        end = time.monotonic() + 120
        while any(alive(w) for w in workers) and time.monotonic() < end:
            time.sleep(0.1)
        assert [alive(w) for w in workers] == [False, False]  # no orphan left on the port
        second = start(port, NEW_KEY, tmp_path / "second.log")
        wait_for(url + "/readyz", second, tmp_path / "second.log", status=200)
        old = [httpx.get(url + "/v1/taxonomy", headers={"X-API-Key": SERVICE_KEY}, timeout=60).status_code
               for _ in range(20)]
        new = [httpx.get(url + "/v1/taxonomy", headers={"X-API-Key": NEW_KEY}, timeout=60).status_code
               for _ in range(20)]
        assert old == [401] * 20 and new == [200] * 20
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(120)
    assert second.returncode == 0


def test_a_port_another_process_listens_on_is_refused_in_one_line(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:  # as an old worker would hold it
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        for workers in (2, 1):
            proc = start(port, SERVICE_KEY, tmp_path / "refused.log", workers=workers)
            try:
                code = proc.wait(300)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            text = (tmp_path / "refused.log").read_text()
            assert code != 0 and text == (f"Error: port {port} on 127.0.0.1 is already in use by another process "
                                          f"(an old triage serve still running?); stop it or choose another --port\n")


def test_a_worker_whose_parent_is_gone_stops(tmp_path):
    """``die_with_parent`` and ``watch_parent`` in a grandchild whose parent exits at once."""
    flag = tmp_path / "stopped"
    # a child armed while its parent lives is signalled when the parent dies
    script = f"""
import os, signal, sys, time
sys.path.insert(0, {str(ROOT)!r})
from service.workers import die_with_parent, watch_parent
parent = os.getpid()
child = os.fork()
if child == 0:
    def stopped(*args):
        with open({str(flag)!r} + ".part", "w") as f:
            f.write("SIGTERM")
        os.replace({str(flag)!r} + ".part", {str(flag)!r})
        os._exit(0)
    signal.signal(signal.SIGTERM, stopped)
    die_with_parent(parent)
    watch_parent(parent, interval=0.05, grace=30)
    print("armed", flush=True)
    time.sleep(600)
    os._exit(1)
time.sleep(600)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "armed"
        proc.kill()  # SIGKILL: the parent runs no clean-up of its own
        proc.wait(60)
        end = time.monotonic() + 60
        while not flag.exists() and time.monotonic() < end:
            time.sleep(0.05)
        assert flag.read_text() == "SIGTERM"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_die_with_parent_stops_at_once_when_the_parent_is_already_gone():
    """The parent may die before the worker arms PR_SET_PDEATHSIG: it then stops at once."""
    def run(parent: str) -> subprocess.CompletedProcess:
        script = (f"import os, sys; sys.path.insert(0, {str(ROOT)!r}); from service.workers import die_with_parent; "
                  f"die_with_parent({parent}); print('went on')")
        return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)

    assert run("os.getppid()").stdout == "went on\n"
    gone = run("-1")  # a pid that is not its parent
    assert (gone.returncode, gone.stdout) == (0, "")
