"""Deploying diagrams: lint + compile (:mod:`bpmn.deploy`) and store a new process version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bpmn.deploy import CompiledProcess, compile_diagram, compile_file
from mom.process_store import ProcessStore, ProcessVersion
from mom.task_catalog import known_task_types


@dataclass(frozen=True)
class Deployment:
    compiled: CompiledProcess
    version: ProcessVersion
    created: bool


def deploy_file(store: ProcessStore, path: Path, *, deployed_by: str, process_id: str | None = None) -> Deployment:
    compiled, raw = compile_file(path, known_task_types(), process_id)
    return _save(store, compiled, raw, deployed_by)


def deploy_bytes(
    store: ProcessStore, data: bytes, source_name: str, *, deployed_by: str, process_id: str | None = None
) -> Deployment:
    compiled = compile_diagram(data, source_name, known_task_types(), process_id)
    return _save(store, compiled, data, deployed_by)


def _save(store: ProcessStore, compiled: CompiledProcess, raw: bytes, deployed_by: str) -> Deployment:
    version, created = store.save(
        process_id=compiled.process_id,
        spec_json=compiled.spec_json,
        spec_sha256=compiled.spec_sha256,
        source=raw,
        source_name=compiled.source_name,
        source_sha256=compiled.source_sha256,
        deployed_by=deployed_by,
    )
    return Deployment(compiled=compiled, version=version, created=created)
