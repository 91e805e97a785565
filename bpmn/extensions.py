"""Read the task extensions of both modeler flavours into one plain description.

Two vocabularies are understood:

- Camunda 8 / zeebe: ``zeebe:taskDefinition type= retries=``, ``zeebe:ioMapping`` (inputs and
  outputs), ``zeebe:taskHeaders``, ``zeebe:assignmentDefinition``, ``zeebe:taskSchedule``,
  ``zeebe:priorityDefinition``, ``zeebe:formDefinition`` with an embedded ``zeebe:userTaskForm``
  or a linked form file, ``zeebe:properties``;
- SpiffWorkflow: ``spiffworkflow:serviceTaskOperator`` (id, parameters, resultVariable, retry),
  ``spiffworkflow:properties`` (``formJsonSchemaFilename``, ``candidateGroups``...).

The result (:class:`TaskExtensions`) is stored on the task spec, so it travels with the serialized
spec to the workers. Expressions keep their text; they are evaluated when the task is reached.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree

from bpmn.dialect import strip_feel_marker
from bpmn.forms import form_js_to_json_schema
from bpmn.xml import NSMAP, SPIFF_NS, ZEEBE_NS

MOM_KEY = "mom"


@dataclass
class Mapping:
    source: str  # Python expression evaluated against the task data (or the job result)
    target: str  # variable name


@dataclass
class TaskExtensions:
    task_type: str | None = None
    retries: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    inputs: list[Mapping] = field(default_factory=list)
    outputs: list[Mapping] = field(default_factory=list)
    result_variable: str | None = None
    assignee: str | None = None
    candidate_groups: str | None = None
    candidate_users: str | None = None
    due_date: str | None = None
    follow_up_date: str | None = None
    priority: str | None = None
    form_key: str | None = None
    form_schema: dict[str, Any] | None = None
    properties: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskExtensions:
        values = dict(data)
        values["inputs"] = [Mapping(**m) for m in values.get("inputs", [])]
        values["outputs"] = [Mapping(**m) for m in values.get("outputs", [])]
        return cls(**values)


# Task headers this engine reads itself (workflows/activity_options.py, user-task signatures); every
# other header reaches the job as Camunda's custom headers reach a worker.
ENGINE_HEADERS = frozenset({"timeout", "heartbeat", "retryBackoff", "taskQueue", "local", "signature"})


def job_headers(headers: dict[str, str]) -> dict[str, str]:
    """The custom headers a job receives, merged under its inputs (an input of the same name wins):
    Camunda's workers read them beside the variables, so a ``mom.log`` given its message as a
    header logs it."""
    return {k: v for k, v in headers.items() if k and k not in ENGINE_HEADERS}


def _all(node: etree._Element, path: str) -> list[etree._Element]:
    found = node.xpath(path, namespaces=NSMAP)
    return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []


def _first(node: etree._Element, path: str) -> etree._Element | None:
    found = _all(node, path)
    return found[0] if found else None


def _expression(value: str | None) -> str | None:
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if text.startswith("="):
        return strip_feel_marker(text)
    return repr(text)  # a static value: a Python string literal


def read_zeebe(node: etree._Element, ext: TaskExtensions, forms: dict[str, dict[str, Any]]) -> None:
    definition = _first(node, "./bpmn:extensionElements/zeebe:taskDefinition")
    if definition is not None:
        ext.task_type = strip_feel_marker(definition.get("type", "")) or None
        retries = definition.get("retries")
        if retries is not None and retries.strip().isdigit():
            ext.retries = int(retries)
    for header in _all(node, "./bpmn:extensionElements/zeebe:taskHeaders/zeebe:header"):
        ext.headers[header.get("key", "")] = header.get("value", "")
    for mapping in _all(node, "./bpmn:extensionElements/zeebe:ioMapping/*"):
        source = _expression(mapping.get("source")) or "None"
        item = Mapping(source=source, target=mapping.get("target", ""))
        if etree.QName(mapping).localname == "input":
            ext.inputs.append(item)
        elif etree.QName(mapping).localname == "output":
            ext.outputs.append(item)
    assignment = _first(node, "./bpmn:extensionElements/zeebe:assignmentDefinition")
    if assignment is not None:
        ext.assignee = _expression(assignment.get("assignee"))
        ext.candidate_groups = _expression(assignment.get("candidateGroups"))
        ext.candidate_users = _expression(assignment.get("candidateUsers"))
    schedule = _first(node, "./bpmn:extensionElements/zeebe:taskSchedule")
    if schedule is not None:
        ext.due_date = _expression(schedule.get("dueDate"))
        ext.follow_up_date = _expression(schedule.get("followUpDate"))
    priority = _first(node, "./bpmn:extensionElements/zeebe:priorityDefinition")
    if priority is not None:
        ext.priority = _expression(priority.get("priority"))
    for prop in _all(node, "./bpmn:extensionElements/zeebe:properties/zeebe:property"):
        ext.properties[prop.get("name", "")] = prop.get("value", "")
    form = _first(node, "./bpmn:extensionElements/zeebe:formDefinition")
    if form is not None:
        key = form.get("formKey") or form.get("formId")
        if key:
            ext.form_key = key
            local_key = key.rsplit(":", 1)[-1]
            body = forms.get(key) or forms.get(local_key)
            if body is not None:
                ext.form_schema = form_js_to_json_schema(body)


def read_spiff(node: etree._Element, ext: TaskExtensions, forms: dict[str, dict[str, Any]]) -> None:
    operator = _first(node, "./bpmn:extensionElements/spiffworkflow:serviceTaskOperator")
    if operator is not None:
        ext.task_type = operator.get("id") or ext.task_type
        ext.result_variable = operator.get("resultVariable") or None
        for param in _all(operator, "./spiffworkflow:parameters/spiffworkflow:parameter"):
            ext.inputs.append(Mapping(source=param.get("value", "None"), target=param.get("id", "")))
        retry = _first(operator, "./spiffworkflow:retry")
        if retry is not None and (retry.get("retries") or "").isdigit():
            ext.retries = int(retry.get("retries", "0"))
    for prop in _all(node, "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"):
        ext.properties[prop.get("name", "")] = prop.get("value", "")
    schema_file = ext.properties.get("formJsonSchemaFilename")
    if schema_file:
        ext.form_key = schema_file
        body = forms.get(schema_file)
        if body is not None:
            ext.form_schema = body
    for key, attr in (("candidateGroups", "candidate_groups"), ("assignee", "assignee")):
        if key in ext.properties and getattr(ext, attr) is None:
            setattr(ext, attr, _expression(ext.properties[key]))


def read_task_extensions(
    node: etree._Element, forms: dict[str, dict[str, Any]] | None = None
) -> TaskExtensions:
    """The extensions of one task element, from either flavour (zeebe first, then spiff)."""
    ext = TaskExtensions()
    forms = forms or {}
    read_zeebe(node, ext, forms)
    read_spiff(node, ext, forms)
    return ext


def read_called_element(node: etree._Element) -> dict[str, Any]:
    """The process a call activity calls and whether all child variables come back:
    ``zeebe:calledElement processId= propagateAllChildVariables=`` or the BPMN ``calledElement``
    attribute (spiffworkflow). Without output mappings all child variables are propagated unless
    ``propagateAllChildVariables="false"``."""
    called = _first(node, "./bpmn:extensionElements/zeebe:calledElement")
    process_id = None
    propagate = True
    if called is not None:
        process_id = strip_feel_marker(called.get("processId", "")) or None
        propagate = called.get("propagateAllChildVariables", "true").strip().lower() != "false"
    process_id = process_id or (node.get("calledElement") or "").strip() or None
    return {"process_id": process_id, "propagate_all": propagate}


def read_called_decision(node: etree._Element) -> dict[str, Any]:
    """The decision a business rule task evaluates: ``zeebe:calledDecision decisionId= resultVariable=``
    or ``spiffworkflow:calledDecisionId``."""
    called = _first(node, "./bpmn:extensionElements/zeebe:calledDecision")
    if called is not None:
        return {"decision_id": strip_feel_marker(called.get("decisionId", "")) or None,
                "result_variable": called.get("resultVariable") or None}
    spiff = _first(node, "./bpmn:extensionElements/spiffworkflow:calledDecisionId")
    decision = (spiff.text or "").strip() if spiff is not None else ""
    return {"decision_id": decision or None, "result_variable": None}


def embedded_forms(process: etree._Element) -> dict[str, dict[str, Any]]:
    """Camunda's ``zeebe:userTaskForm`` bodies of a process, by id (invalid JSON is skipped here
    and reported by the lint)."""
    found: dict[str, dict[str, Any]] = {}
    for form in process.iter(f"{{{ZEEBE_NS}}}userTaskForm"):
        try:
            body = json.loads(form.text or "")
        except json.JSONDecodeError:
            continue
        if isinstance(body, dict) and form.get("id"):
            found[form.get("id", "")] = body
    return found


__all__ = ["MOM_KEY", "SPIFF_NS", "Mapping", "TaskExtensions", "embedded_forms", "read_called_decision",
           "read_called_element", "read_task_extensions"]
