"""The station API: a thin FastAPI door over the ``triage`` library.

``create_app(settings)`` builds the application; ``triage serve`` runs
``create_app_from_env`` (settings from the TRIAGE_ environment variables) under uvicorn.
The model is loaded and warmed up (jieba, the user dictionary, one test prediction) in a
background thread at start-up: /healthz answers at once, /readyz only once the model is in.

The routes take the settings from the cached dependency ``get_settings``; settings given to
``create_app`` are put in ``app.dependency_overrides[get_settings]``. The limits, the enums
of /openapi.json (from the model's taxonomy) and the body cap are fixed when the app is built.
Operation ids are the route functions' names (``triage_opinions``, ``get_suggestion``...).
"""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from fastapi.routing import APIRoute

from service import docs as offline_docs
from service import errors
from service.codes import build_codes, taxonomy_for
from service.holder import ModelHolder
from service.middleware import RequestGuard
from service.routes import build_router
from service.settings import Settings, get_settings
from service.suggestions import build_suggestions_router

log = logging.getLogger("service")

DESCRIPTION = """\
Triage the opinions a deputy liaison station collects from wood-processing enterprises: category
(tax, financing, branding, technology, infrastructure), routing tier (现场办 on_site, 分级转 transfer,
重点提 key), lead agency and deadline.

为人大代表联络站收集的企业意见给出分类（税收、融资、品牌、技术、基础设施）、交办层级（现场办、分级转、重点提）、
主办单位和办理期限。

**Authentication / 认证.** Every `/v1` route needs a key in the `X-API-Key` header (one per station tool,
from `TRIAGE_API_KEYS`); `/v1/admin/reload` needs an admin key (`TRIAGE_ADMIN_KEYS`). `/healthz`, `/readyz`
and these docs are open: they hold no opinion data. 所有 `/v1` 接口需在 `X-API-Key` 请求头中提供密钥；重新加载需管理员密钥；
健康检查与本文档无需密钥（不含任何意见数据）。

**Errors / 错误.** Every error has one shape / 所有错误格式统一:
`{"error": {"code": "too_long", "message": "items[2].text: at most 5000 characters, found 5210",
"field": "items[2].text", "limit": 5000, "details": [...]}}`.
"""


def _version() -> str:
    try:
        return version("station-triage")
    except PackageNotFoundError:
        return "0"


def operation_id(route: APIRoute) -> str:
    return route.name


def create_app(settings: Settings | None = None, holder: ModelHolder | None = None) -> FastAPI:
    """Build the application. Refuses (``InputError``) to build without any key unless
    ``settings.insecure_dev``. ``holder``: an already loaded model holder (tests); by default
    one is made for ``settings.model_dir`` and loaded in the background at start-up."""
    given = settings
    settings = settings or get_settings()
    settings.check_startup()
    holder = holder or ModelHolder(settings.model_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if not settings.auth_enabled:
            log.warning("INSECURE DEV MODE: no API key configured, every route is open (listening on %s)",
                        settings.host)
        if not holder.ready and not holder.loading:
            holder.load_in_background()
        follower = holder.follow(settings.reload_signal) if settings.reload_signal else None
        yield
        if follower is not None:
            follower.stop.set()

    app = FastAPI(title="Liaison station triage API / 联络站意见分类接口", version=_version(), description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json" if settings.docs else None, generate_unique_id_function=operation_id)
    if given is not None:
        app.dependency_overrides[get_settings] = lambda: given
    app.state.holder = holder
    errors.install(app)
    codes = build_codes(taxonomy_for(settings.model_dir, holder))
    app.include_router(build_router(settings, codes))
    app.include_router(build_suggestions_router(codes))
    if settings.docs:
        offline_docs.install(app)
    app.add_middleware(RequestGuard, limit=settings.body_limit, secrets=settings.api_keys + settings.admin_keys)
    return app


def create_app_from_env() -> FastAPI:
    """The factory ``triage serve`` gives uvicorn (each worker process calls it)."""
    return create_app(get_settings())
