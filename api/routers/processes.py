"""Process definitions: deploy a diagram (a new version per changed diagram), list, versions, XML."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Path, Query, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api.deps import AnyUser, ContextDep, Engineer
from api.pagination import Page, Paging
from api.schemas.processes import PROCESS_ID, DeploymentOut, ProcessDefinitionOut
from bpmn.xml import utf8_diagram
from mom.db.processes import deploy_process_definition, get_process_definition, list_process_definitions
from mom.deployment import Deployment, deploy_bytes
from mom.schedules import sync_schedules

router = APIRouter(prefix="/process-definitions", tags=["process definitions"])
MAX_DIAGRAM_BYTES = 5 * 1024 * 1024


@router.post("", response_model=DeploymentOut, status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "the same diagram was deployed already"},
                        422: {"description": "the diagram has problems (file, line, element id, message)"}})
async def deploy(
    context: ContextDep,
    user: Engineer,
    response: Response,
    file: Annotated[UploadFile, File(description="a BPMN 2.0 diagram (.bpmn)")],
    process_id: Annotated[str | None, Form(pattern=PROCESS_ID, description="which process of the file")] = None,
    reason: Annotated[str | None, Form(max_length=500)] = None,
) -> DeploymentOut:
    data = await file.read(MAX_DIAGRAM_BYTES + 1)
    if len(data) > MAX_DIAGRAM_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"file: larger than {MAX_DIAGRAM_BYTES} bytes")
    name = file.filename or "upload.bpmn"
    data = utf8_diagram(data, name)  # as /lint reads it: a declared Latin-1 file is kept as UTF-8
    text = data.decode("utf-8")
    deployment: Deployment = await run_in_threadpool(
        deploy_bytes, context.store, data, name, deployed_by=user.username, process_id=process_id
    )
    compiled = deployment.compiled

    def record(session: Session) -> tuple[ProcessDefinitionOut, bool]:
        definition, created = deploy_process_definition(
            session, process_key=compiled.process_id, bpmn_xml=text, deployed_by=user.username,
            name=compiled.process_name, reason=reason,
        )
        return ProcessDefinitionOut.model_validate(definition), created

    definition, created = await context.db(record)
    created = created or deployment.created
    if not created:
        response.status_code = status.HTTP_200_OK
    warnings = [str(w) for w in compiled.warnings]
    schedules: list[str] = []
    if deployment.created:
        try:  # timer start events run as Temporal schedules of the new version
            client = await context.temporal()
            schedules = await sync_schedules(client, context.store, compiled.process_id,
                                             task_queue=context.settings.task_queue)
        except HTTPException as exc:
            warnings.append(f"timer start schedules not updated: {exc.detail}; run 'mom schedules "
                            f"{compiled.process_id}' when Temporal is up")
        except Exception as exc:  # e.g. a timer whose value is an expression, or Temporal refusing
            warnings.append(f"timer start schedules not updated: {type(exc).__name__}: {exc}")
    return DeploymentOut(process_id=compiled.process_id, version=deployment.version.version,
                         spec_sha256=deployment.version.spec_sha256, created=created, definition=definition,
                         warnings=warnings, schedules=schedules)


@router.get("", response_model=Page[ProcessDefinitionOut])
async def index(context: ContextDep, user: AnyUser, paging: Paging,
                process_id: Annotated[str | None, Query(max_length=200)] = None,
                latest_only: bool = False) -> Page[ProcessDefinitionOut]:
    def work(session: Session) -> Page[ProcessDefinitionOut]:
        items, total = list_process_definitions(session, process_key=process_id, latest_only=latest_only,
                                                offset=paging.offset, limit=paging.limit)
        return Page(items=[ProcessDefinitionOut.model_validate(d) for d in items], total=total,
                    **paging.model_dump())

    return await context.db(work, write=False)


@router.get("/{process_id}", response_model=ProcessDefinitionOut)
async def latest(context: ContextDep, user: AnyUser, process_id: str) -> ProcessDefinitionOut:
    return await context.db(lambda s: ProcessDefinitionOut.model_validate(
        get_process_definition(s, process_key=process_id)))


@router.get("/{process_id}/versions", response_model=Page[ProcessDefinitionOut])
async def versions(context: ContextDep, user: AnyUser, process_id: str, paging: Paging) -> Page[ProcessDefinitionOut]:
    def work(session: Session) -> Page[ProcessDefinitionOut]:
        get_process_definition(session, process_key=process_id)  # 404 for an unknown process
        items, total = list_process_definitions(session, process_key=process_id, offset=paging.offset,
                                                limit=paging.limit)
        return Page(items=[ProcessDefinitionOut.model_validate(d) for d in items], total=total,
                    **paging.model_dump())

    return await context.db(work, write=False)


@router.get("/{process_id}/versions/{version}/xml", response_class=Response,
            responses={200: {"content": {"application/xml": {}}, "description": "the BPMN diagram as deployed"}})
async def xml(context: ContextDep, user: AnyUser, process_id: str,
              version: Annotated[int, Path(ge=1, le=1_000_000)]) -> Response:
    text = await context.db(lambda s: get_process_definition(s, process_key=process_id, version=version).bpmn_xml)
    return Response(content=text, media_type="application/xml")
