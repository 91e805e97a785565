"""Serialized process specs: what a deploy stores and what a worker loads, by SHA-256."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import (
    BusinessRuleTaskConverter,
    ServiceTaskConverter,
    SpiffBpmnTaskConverter,
    SpiffMultiInstanceConverter,
    SubWorkflowTaskConverter,
)

from bpmn.parser import (
    LocalItemSequentialMultiInstanceTask,
    OrderedParallelMultiInstanceTask,
    PassThroughManualTask,
    PassThroughTask,
    PlantBusinessRuleTask,
    PlantCallActivity,
    PlantEventSubprocess,
    PlantServiceTask,
)

SPEC_FORMAT = "smart-mom/spec/1"


class EventSubprocessConverter(SubWorkflowTaskConverter):  # type: ignore[misc]
    """An event subprocess with the event of its start event and whether it interrupts."""

    def to_dict(self, spec: PlantEventSubprocess) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(spec)
        dct["event_definition"] = self.registry.convert(spec.event_definition)
        dct["interrupting"] = spec.interrupting
        return dct

    def from_dict(self, dct: dict[str, Any]) -> PlantEventSubprocess:
        event_definition = self.registry.restore(dct.pop("event_definition", None))
        interrupting = bool(dct.pop("interrupting", True))
        spec: PlantEventSubprocess = super().from_dict(dct)
        spec.event_definition = event_definition
        spec.interrupting = interrupting
        return spec


def workflow_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[PlantServiceTask] = ServiceTaskConverter
    config[OrderedParallelMultiInstanceTask] = SpiffMultiInstanceConverter
    config[LocalItemSequentialMultiInstanceTask] = SpiffMultiInstanceConverter
    config[PlantCallActivity] = ServiceTaskConverter
    config[PlantBusinessRuleTask] = BusinessRuleTaskConverter
    config[PlantEventSubprocess] = EventSubprocessConverter
    config[PassThroughTask] = SpiffBpmnTaskConverter
    config[PassThroughManualTask] = SpiffBpmnTaskConverter
    registry = BpmnWorkflowSerializer.configure(config)
    return BpmnWorkflowSerializer(registry)


_SERIALIZER: BpmnWorkflowSerializer | None = None


def serializer() -> BpmnWorkflowSerializer:
    global _SERIALIZER
    if _SERIALIZER is None:
        _SERIALIZER = workflow_serializer()
    return _SERIALIZER


@dataclass(frozen=True)
class SpecBundle:
    """A process spec with the specs of its subprocesses, as SpiffWorkflow objects."""

    process_id: str
    spec: Any
    subprocess_specs: dict[str, Any]
    # message name -> correlation key expression (zeebe:subscription correlationKey), None: no key
    messages: dict[str, str | None] = field(default_factory=dict)
    # names of the messages whose arrival starts an instance (message start events of the process)
    message_starts: tuple[str, ...] = ()


def spec_to_json(bundle: SpecBundle) -> str:
    registry = serializer().registry
    document = {
        "format": SPEC_FORMAT,
        "process_id": bundle.process_id,
        "spec": registry.convert(bundle.spec),
        "subprocess_specs": {k: registry.convert(v) for k, v in sorted(bundle.subprocess_specs.items())},
        "messages": dict(sorted(bundle.messages.items())),
    }
    if bundle.message_starts:  # only then: the SHA-256 of specs without message starts stays as it was
        document["message_starts"] = sorted(bundle.message_starts)
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def spec_from_json(text: str) -> SpecBundle:
    registry = serializer().registry
    document = json.loads(text)
    if document.get("format") != SPEC_FORMAT:
        raise ValueError(f"not a Smart MOM spec document (format {document.get('format')!r})")
    return SpecBundle(
        process_id=document["process_id"],
        spec=registry.restore(document["spec"]),
        subprocess_specs={k: registry.restore(v) for k, v in document["subprocess_specs"].items()},
        messages=dict(document.get("messages", {})),
        message_starts=tuple(document.get("message_starts", ())),
    )


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
