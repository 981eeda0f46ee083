"""``triage serve`` from its flags to uvicorn: settings, the start-up checks, and the server.

Start-up refuses, with a one-line ``InputError``, a missing key (unless ``--insecure-dev``), a
folder that holds no model, and a port that another process already listens on: with
``SO_REUSEPORT`` (``--workers N``) the kernel would otherwise share the port with it, and an
old worker left behind by a killed server could keep answering with the old keys.
"""
from __future__ import annotations

import errno
import os
import signal
import socket
import sys
import tempfile
from pathlib import Path

from triage.errors import InputError

from service.settings import Settings

APP = "service.app:create_app_from_env"


class _Stopped(Exception):
    """SIGTERM after uvicorn's graceful shutdown: a normal end, not a crash."""


def check_port_free(host: str, port: int) -> None:
    """Raise ``InputError`` when ``host:port`` cannot be bound because a process listens on it.
    A plain bind (``SO_REUSEADDR`` for connections in TIME_WAIT, no ``SO_REUSEPORT``) fails
    on Linux whenever any socket listens there, whoever opened it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(f"port {port} on {host} is already in use by another process (an old triage serve "
                                 f"still running?); stop it or choose another --port") from None
            raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def settings_from_flags(environ=None, **flags) -> Settings:
    """Settings from the environment with the flags given (not ``None``) on top (raises InputError)."""
    return Settings.from_env(environ, **flags)


def serve(settings: Settings) -> int:
    """Check, then run the API until SIGTERM or SIGINT; returns the exit code."""
    from triage.store.folder import read_card

    settings.check_startup()
    card = read_card(settings.model_dir)  # a wrong folder fails here, in one line, before uvicorn starts
    check_port_free(settings.host, settings.port)
    with tempfile.TemporaryDirectory(prefix="triage-serve-") as tmp:
        if settings.workers > 1 and settings.reload_signal is None:
            settings = settings.model_copy(update={"reload_signal": Path(tmp) / "reload.json"})
        os.environ.update(settings.to_env())  # the worker processes build their settings from it
        if not settings.auth_enabled:
            print(f"warning: --insecure-dev: no API key, every route is open on {settings.host}", file=sys.stderr)
        print(f"serving model {card.get('version')} from {settings.model_dir} on http://{settings.host}:{settings.port} "
              f"({settings.workers} worker{'s' if settings.workers > 1 else ''}); docs: "
              f"{'/docs' if settings.docs else 'off'}", file=sys.stderr)
        return _run_uvicorn(settings)


def _run_uvicorn(settings: Settings) -> int:
    import uvicorn

    from service.logs import log_config

    def stop(signum, frame):
        raise _Stopped()

    options = dict(factory=True, log_config=log_config(settings.log_level), access_log=False, server_header=False,
                   timeout_graceful_shutdown=30)
    if settings.workers > 1:  # each worker on a socket of its own: see service/workers.py
        from service.workers import serve_workers

        options.pop("factory")
        code = serve_workers(APP, settings.host, settings.port, settings.workers, **options)
        print("stopped", file=sys.stderr)
        return code
    previous = signal.signal(signal.SIGTERM, stop)  # re-raised by uvicorn after its graceful shutdown
    try:
        uvicorn.run(APP, host=settings.host, port=settings.port, workers=1, **options)
    except (_Stopped, KeyboardInterrupt):
        pass
    except SystemExit as exc:  # uvicorn exits this way when the app cannot start; it logged why
        return int(exc.code or 0)
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("stopped", file=sys.stderr)
    return 0
