"""Errors of the core mapped to HTTP: 404 not found, 409 conflict, 403 not permitted, 422 invalid."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from bpmn.errors import BpmnError
from mom.db.errors import RecordConflict, RecordNotFound
from mom.domain import DomainError, IllegalTransition, NotPermitted
from mom.instances import InstanceNotFound, ProcessNotDeployed


def _json(code: int, detail: object) -> JSONResponse:
    return JSONResponse(status_code=code, content={"detail": detail})


def install_error_handlers(app: FastAPI) -> None:
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
