"""``triage serve --workers N`` with N > 1: N worker processes, each with a listening socket
of its own on the same address (``SO_REUSEPORT``), so that the kernel spreads the
connections over them.

Why not uvicorn's own ``workers``: its parent binds one socket and hands it to the workers,
and (measured with uvicorn 0.54 on a two-line ASGI app, ``wrk -c1``) that costs twice:

* the socket is made without its protocol number, asyncio only sets ``TCP_NODELAY`` on
  sockets that say they are TCP, so every answer on a kept-alive connection waits about
  40 ms for the client's delayed ACK (23 requests/s instead of 3,950);
* whichever worker wakes first accepts a whole burst of new connections, so one worker
  can end up serving all of them while the other idles.

Each worker here loads its model, then opens its own socket and runs one ``uvicorn.Server``
on it (a worker still loading is not listening, so no connection reaches it); the parent starts them,
starts a worker again if one dies, and on SIGTERM or SIGINT passes SIGTERM on (uvicorn's
graceful shutdown) and waits for them.

A worker ends with its parent, even one killed with SIGKILL: on Linux the kernel sends it
SIGTERM when the parent dies (``prctl(PR_SET_PDEATHSIG)``), and on every system a watchdog
thread sees its parent change and stops it; a worker left behind would keep its socket on
the port and answer with the old keys.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time

log = logging.getLogger("service")

STARTUP_FAILURE = 3  # a worker that could not start (bind error, broken app): restarting will not help
GRACE_SECONDS = 35  # how long the parent waits for a worker's graceful shutdown before killing it
PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_SECONDS = 0.5  # how often a worker's watchdog looks at its parent


def die_with_parent(parent: int) -> bool:
    """Have the kernel send SIGTERM to this process when its parent dies (Linux); then, in
    case the parent died before that, stop at once if it already has. Returns whether the
    kernel took the request."""
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:
        os._exit(0)
    return armed


def watch_parent(parent: int, interval: float = WATCH_SECONDS, grace: float = GRACE_SECONDS) -> threading.Thread:
    """A daemon thread that stops this process (SIGTERM, then exit after ``grace``) once its
    parent is gone, for systems without PR_SET_PDEATHSIG and as a second guard."""
    def run():
        while os.getppid() == parent:
            time.sleep(interval)
        logging.getLogger("uvicorn.error").warning("the parent process %s is gone; this worker stops", parent)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace)
        os._exit(1)

    thread = threading.Thread(target=run, name="parent-watchdog", daemon=True)
    thread.start()
    return thread


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A TCP socket bound to ``host:port`` that other processes may bind too (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # the protocol number: see above
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _worker(factory: str, host: str, port: int, options: dict, parent: int) -> None:
    """One worker process: the app built, its model loaded, and only then its own socket
    opened, so the kernel never hands a connection to a worker that would answer 503."""
    import importlib

    die_with_parent(parent)
    watch_parent(parent)

    import uvicorn

    from triage.errors import TriageError

    config = uvicorn.Config(None, host=host, port=port, **options)  # configures logging first
    errors = logging.getLogger("uvicorn.error")
    module, _, name = factory.partition(":")
    app = getattr(importlib.import_module(module), name)()
    try:
        app.state.holder.load()
    except TriageError as exc:
        errors.error("the model could not be loaded: %s", exc)
        sys.exit(STARTUP_FAILURE)
    try:
        sock = listening_socket(host, port)
    except OSError as exc:
        errors.error("cannot listen on %s:%s: %s", host, port, exc.strerror or exc)
        sys.exit(STARTUP_FAILURE)
    config.app = app
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    sys.exit(0 if server.started else STARTUP_FAILURE)


def serve_workers(factory: str, host: str, port: int, workers: int, **options) -> int:
    """Run ``workers`` processes serving the app that ``factory`` builds (``module:function``;
    the app holds a ``ModelHolder`` in ``app.state.holder``) until SIGTERM or SIGINT.
    ``options``: further ``uvicorn.Config`` arguments. Returns the exit code: 0 after a
    normal stop, ``STARTUP_FAILURE`` when a worker could not start."""
    ctx = multiprocessing.get_context("spawn")
    stop: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: stop.append(signum)) for s in (signal.SIGTERM, signal.SIGINT)}

    def start():
        p = ctx.Process(target=_worker, args=(factory, host, port, options, os.getpid()), name="triage-worker",
                        daemon=False)
        p.start()
        return p

    procs, code = [], 0
    try:
        procs = [start() for _ in range(workers)]
        while not stop:
            for i, p in enumerate(procs):
                if p.is_alive():
                    continue
                if p.exitcode == STARTUP_FAILURE:
                    log.error("worker %s could not start; stopping", p.pid)
                    code = STARTUP_FAILURE
                    stop.append(0)
                    break
                log.error("worker %s ended (exit code %s); starting another", p.pid, p.exitcode)
                procs[i] = start()
            time.sleep(0.2)
    finally:
        for p in procs:
            if p.is_alive():
                os.kill(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for p in procs:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return code
