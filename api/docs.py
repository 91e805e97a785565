"""``/docs``: Swagger UI on the API's OpenAPI document, from this server only (plants are
air-gapped). The assets come from the swagger-ui-dist npm package, copied into the web UI's build
(``web/dist/swagger``, see web/scripts/copy-swagger-ui.mjs); the page starts it with a script file,
not an inline script, so the Content-Security-Policy (:mod:`api.security_headers`) holds there too.
FastAPI's own /docs and /redoc load their assets from a CDN and are off."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

SWAGGER_PATH = "/ui/swagger"

PAGE = f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <title>Smart MOM API</title>
    <link rel="stylesheet" href="{SWAGGER_PATH}/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="{SWAGGER_PATH}/swagger-ui-bundle.js"></script>
    <script src="{SWAGGER_PATH}/swagger-init.js"></script>
  </body>
</html>
"""


def mount_docs(app: FastAPI, dist: Path) -> bool:
    """Serve /docs when the web UI's build holds Swagger UI (it is served under /ui); True when so."""
    if not (dist / "swagger" / "swagger-ui-bundle.js").is_file():
        return False

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(PAGE)

    return True
