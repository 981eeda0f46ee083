"""``/docs`` (Swagger UI) and ``/redoc`` served with their scripts and styles from a Python
package (``fastapi-offline``), under ``/docs/assets``: the pages work on a station's offline
intranet, and no page loads anything from outside the server (no CDN, no Google Fonts, no
favicon from the web, no call to Swagger's online validator)."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
FILES = {"js": "swagger-ui-bundle.js", "css": "swagger-ui.css", "redoc": "redoc.standalone.js", "icon": "favicon.png"}
# Swagger UI otherwise asks validator.swagger.io for a badge on every page view.
SWAGGER_PARAMETERS = {"validatorUrl": None}


def assets_dir() -> Path:
    """The folder of the packaged Swagger UI and ReDoc files."""
    return Path(str(files("fastapi_offline") / "static"))


def install(app: FastAPI, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Serve the assets and the two pages (call with ``docs_url=None``/``redoc_url=None`` given
    to ``FastAPI``, so that its CDN pages are not made)."""
    app.mount(ASSETS, StaticFiles(directory=assets_dir()), name="docs-assets")
    oauth = app.swagger_ui_oauth2_redirect_url or f"{docs_url}/oauth2-redirect"

    def url(request: Request, path: str) -> str:
        return f"{request.scope.get('root_path', '')}{path}"

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=url(request, app.openapi_url), title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=url(request, oauth), swagger_js_url=url(request, f"{ASSETS}/{FILES['js']}"),
            swagger_css_url=url(request, f"{ASSETS}/{FILES['css']}"),
            swagger_favicon_url=url(request, f"{ASSETS}/{FILES['icon']}"),
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), **SWAGGER_PARAMETERS})

    @app.get(oauth, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(redoc_url, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(openapi_url=url(request, app.openapi_url), title=f"{app.title} - ReDoc",
                              redoc_js_url=url(request, f"{ASSETS}/{FILES['redoc']}"),
                              redoc_favicon_url=url(request, f"{ASSETS}/{FILES['icon']}"), with_google_fonts=False)
