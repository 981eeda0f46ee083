"""``triage serve``: the door to the station API; the start-up itself is ``service.serve``.

Flags override the TRIAGE_ environment variables; API keys are read from the environment
only (TRIAGE_API_KEYS, TRIAGE_ADMIN_KEYS), never from flags, which other users of the
machine can see in the process list. This handler is the one place in ``triage/`` that
touches ``service/``, lazily, when the command runs; the library itself never imports it.
"""
from __future__ import annotations

import textwrap

from triage.cli.common import model_arg, quiet_arg


def add_commands(sub, fmt) -> None:
    p = sub.add_parser(
        "serve", formatter_class=fmt, help="run the station API (HTTP, FastAPI/uvicorn)",
        description="Serve POST /v1/triage, GET /v1/taxonomy, GET /v1/model, /healthz, /readyz and "
                    "POST /v1/admin/reload, with OpenAPI docs at /docs. Keys come from TRIAGE_API_KEYS "
                    "(comma-separated, one per station tool) and TRIAGE_ADMIN_KEYS (may reload); without any "
                    "key the service refuses to start unless --insecure-dev. Every flag can also be set by its "
                    "TRIAGE_ variable (flag wins). Refuses to start on a port another process listens on. "
                    "启动联络站分类接口服务。",
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
    quiet_arg(p, help_="log warnings and errors only (the same as --log-level warning): no access log")
    p.set_defaults(func=cmd_serve)


def cmd_serve(a) -> int:
    from service.serve import serve, settings_from_flags

    return serve(settings_from_flags(
        host=a.host, port=a.port, workers=a.workers, model_dir=a.model, insecure_dev=a.insecure_dev,
        max_items=a.max_items, max_text_chars=a.max_text_chars, max_body_bytes=a.max_body_bytes,
        docs=False if a.no_docs else None, log_level="warning" if a.quiet and not a.log_level else a.log_level))
