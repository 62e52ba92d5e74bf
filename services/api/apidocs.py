"""/docs (Swagger UI) and /redoc (ReDoc) served from files installed with the API.

FastAPI's own pages load both from a CDN, so they stay blank on a network without the
internet. The files come from the `fastapi-offline` package, which exists to ship them (its
static folder: Swagger UI 5 and ReDoc 2, MIT-licensed); we mount that folder and render
FastAPI's own page templates against it.
"""

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
# Swagger UI would otherwise send the schema to its public validator for a badge.
SWAGGER_PARAMETERS = {"validatorUrl": None}


def operation_id(route: APIRoute) -> str:
    """An operation's id in the schema: its route's name (`next_customer`), unique in the API,
    so that generated clients get readable names instead of FastAPI's default (the name, the
    path and the method run together)."""
    return route.name


def assets_dir() -> str:
    return str(files("fastapi_offline") / "static")


def install_docs(app: FastAPI, *, openapi_url: str = "/openapi.json") -> None:
    """Mount the assets and add /docs and /redoc (create the app with docs_url=None)."""
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
