"""``triage serve``: run the station API (the FastAPI app in ``service/``) under uvicorn.

Flags override the TRIAGE_ environment variables; API keys are read from the environment
only (TRIAGE_API_KEYS, TRIAGE_ADMIN_KEYS), never from flags, which other users of the
machine can see in the process list. This handler is the one place in ``triage/`` that
touches ``service/``, lazily, when the command runs; the library itself never imports it.
"""
from __future__ import annotations

import os
import signal
import sys
import tempfile
import textwrap
from pathlib import Path

from triage.cli.common import EXIT_OK, model_arg


class _Stopped(Exception):
    """SIGTERM after uvicorn's graceful shutdown: a normal end, not a crash."""


def add_commands(sub, fmt) -> None:
    p = sub.add_parser(
        "serve", formatter_class=fmt, help="run the station API (HTTP, FastAPI/uvicorn)",
        description="Serve POST /v1/triage, GET /v1/taxonomy, GET /v1/model, /healthz, /readyz and "
                    "POST /v1/admin/reload, with OpenAPI docs at /docs. Keys come from TRIAGE_API_KEYS "
                    "(comma-separated, one per station tool) and TRIAGE_ADMIN_KEYS (may reload); without any "
                    "key the service refuses to start unless --insecure-dev. Every flag can also be set by its "
                    "TRIAGE_ variable (flag wins). 启动联络站分类接口服务。",
        epilog=textwrap.dedent("""\
            example:
              export TRIAGE_API_KEYS="$(python -c 'import secrets; print(secrets.token_urlsafe(24))')"
              export TRIAGE_ADMIN_KEYS="$(python -c 'import secrets; print(secrets.token_urlsafe(24))')"
              triage serve --host 0.0.0.0 --port 8000 --workers 2 --model models
              triage serve --insecure-dev            # local test on 127.0.0.1, no keys"""))
    p.add_argument("--host", help="address to listen on (TRIAGE_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (TRIAGE_PORT, default 8000)")
    p.add_argument("--workers", type=int, help="worker processes, each with its own model copy (TRIAGE_WORKERS, default 1)")
    model_arg(p)
    p.add_argument("--insecure-dev", action="store_true", default=None,
                   help="allow starting without any API key, on a loopback address only (TRIAGE_INSECURE_DEV)")
    p.add_argument("--max-items", type=int, help="opinions per request (TRIAGE_MAX_ITEMS, default 1000)")
    p.add_argument("--max-text-chars", type=int, help="characters per text (TRIAGE_MAX_TEXT_CHARS, default 5000)")
    p.add_argument("--max-body-bytes", type=int,
                   help="request body cap, checked before parsing (TRIAGE_MAX_BODY_BYTES, default: derived from the two limits above)")
    p.add_argument("--no-docs", action="store_true", default=None,
                   help="do not serve /docs, /redoc and /openapi.json (TRIAGE_DOCS=false)")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), help="TRIAGE_LOG_LEVEL, default info")
    p.set_defaults(func=cmd_serve)


def settings_from_args(a, environ=None):
    """Settings from the environment with the given flags on top (raises InputError)."""
    from service.settings import Settings

    return Settings.from_env(
        environ, host=a.host, port=a.port, workers=a.workers, model_dir=a.model, insecure_dev=a.insecure_dev,
        max_items=a.max_items, max_text_chars=a.max_text_chars, max_body_bytes=a.max_body_bytes,
        docs=False if a.no_docs else None, log_level=a.log_level)


def cmd_serve(a) -> int:
    from triage.store.folder import read_card

    settings = settings_from_args(a)
    settings.check_startup()
    card = read_card(settings.model_dir)  # a wrong folder fails here, in one line, before uvicorn starts
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


def _run_uvicorn(settings) -> int:
    import uvicorn

    from service.logs import log_config

    def stop(signum, frame):
        raise _Stopped()

    app = "service.app:create_app_from_env"
    options = dict(factory=True, log_config=log_config(settings.log_level), access_log=False, server_header=False,
                   timeout_graceful_shutdown=30)
    if settings.workers > 1:  # each worker on a socket of its own: see service/workers.py
        from service.workers import serve_workers

        options.pop("factory")
        code = serve_workers(app, settings.host, settings.port, settings.workers, **options)
        print("stopped", file=sys.stderr)
        return code
    previous = signal.signal(signal.SIGTERM, stop)  # re-raised by uvicorn after its graceful shutdown
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, workers=1, **options)
    except (_Stopped, KeyboardInterrupt):
        pass
    except SystemExit as exc:  # uvicorn exits this way when the app cannot start; it logged why
        return int(exc.code or 0)
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("stopped", file=sys.stderr)
    return EXIT_OK
