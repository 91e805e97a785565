"""Errors of the core mapped to HTTP: 404 not found, 409 conflict, 403 not permitted, 422 invalid,
503 with Retry-After when the database is busy or away (SQLite's "database is locked" after the busy
timeout, a PostgreSQL lock timeout or lost connection): the client may try again, nothing was written.

An error body never echoes the request back: FastAPI's validation errors carry the offending
``input`` (a 50 MB diagram came back as a 52 MB 422), so it is dropped, and every text in an error
body is cut to :data:`MAX_TEXT` characters (a pattern error on a long field names the field, not
all of its value).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from bpmn.errors import BpmnError
from mom.db.errors import RecordConflict, RecordNotFound
from mom.domain import DomainError, IllegalTransition, NotPermitted
from mom.instances import InstanceNotFound, ProcessNotDeployed

MAX_TEXT = 500
"""Characters of one text in an error body; longer ones are cut, saying how long they were."""
MAX_ITEMS = 100
"""Entries of one list or object in an error body."""


def bounded(value: Any) -> Any:
    """``value`` (JSON-like) with every text cut to MAX_TEXT characters and every list or object to
    MAX_ITEMS entries."""
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else f"{value[:MAX_TEXT]}... ({len(value)} characters)"
    if isinstance(value, dict):
        return {bounded(str(k)): bounded(v) for k, v in list(value.items())[:MAX_ITEMS]}
    if isinstance(value, list | tuple):
        return [bounded(v) for v in list(value)[:MAX_ITEMS]]
    return value


def _json(code: int, detail: object) -> JSONResponse:
    return JSONResponse(status_code=code, content={"detail": bounded(detail)})


RETRY_AFTER_S = 2


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(sa.exc.OperationalError)
    async def database_busy(request: Request, exc: sa.exc.OperationalError) -> JSONResponse:
        cause = "busy: another write holds it" if "locked" in str(exc.orig).lower() else "not available"
        return JSONResponse(status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                            headers={"Retry-After": str(RETRY_AFTER_S)},
                            content={"detail": f"{request.method} {request.url.path}: the database is {cause}; "
                                               f"nothing was written, try again in {RETRY_AFTER_S} s"})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{key: value for key, value in error.items() if key not in ("input", "url")}
                  for error in exc.errors()]
        return _json(status.HTTP_422_UNPROCESSABLE_CONTENT, jsonable_encoder(errors))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        exc.detail = bounded(exc.detail)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RecordNotFound)
    async def not_found(_: Request, exc: RecordNotFound) -> JSONResponse:
        return _json(status.HTTP_404_NOT_FOUND, str(exc))

    @app.exception_handler(InstanceNotFound)
    async def no_instance(_: Request, exc: InstanceNotFound) -> JSONResponse:
        return _json(status.HTTP_404_NOT_FOUND, str(exc))

    @app.exception_handler(ProcessNotDeployed)
    async def not_deployed(_: Request, exc: ProcessNotDeployed) -> JSONResponse:
        return _json(status.HTTP_404_NOT_FOUND, str(exc))

    @app.exception_handler(RecordConflict)
    async def conflict(_: Request, exc: RecordConflict) -> JSONResponse:
        return _json(status.HTTP_409_CONFLICT, str(exc))

    @app.exception_handler(IllegalTransition)
    async def transition(_: Request, exc: IllegalTransition) -> JSONResponse:
        return _json(status.HTTP_409_CONFLICT, str(exc))

    @app.exception_handler(NotPermitted)
    async def not_permitted(_: Request, exc: NotPermitted) -> JSONResponse:
        return _json(status.HTTP_403_FORBIDDEN, str(exc))

    @app.exception_handler(DomainError)
    async def domain(_: Request, exc: DomainError) -> JSONResponse:
        return _json(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))

    @app.exception_handler(BpmnError)
    async def diagram(_: Request, exc: BpmnError) -> JSONResponse:
        problems = [
            {"file": p.file, "line": p.line, "element_id": p.element_id, "message": p.message,
             "severity": getattr(p, "severity", "error")}
            for p in exc.problems
        ]
        return _json(status.HTTP_422_UNPROCESSABLE_CONTENT, {"message": "the diagram cannot be deployed",
                                                              "problems": problems})
