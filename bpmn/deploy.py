"""Deploy step: parse, lint and serialize a diagram into a spec identified by its SHA-256."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from bpmn.dialect import normalize_expressions, strip_feel_marker
from bpmn.errors import BpmnError, Problem
from bpmn.extensions import read_called_decision
from bpmn.lint import lint_diagram, parse_dmn, spiff_line
from bpmn.parser import PlantBpmnParser
from bpmn.spec_bundle import SpecBundle, sha256_of, spec_to_json
from bpmn.xml import BPMN_NS, ZEEBE_NS, parse_diagram


@dataclass(frozen=True)
class CompiledProcess:
    """A diagram ready to run: the serialized spec and what identifies it."""

    process_id: str
    process_name: str | None
    spec_json: str
    spec_sha256: str
    source_name: str
    source_sha256: str
    warnings: tuple[Problem, ...] = ()


def executable_process_ids(root: etree._Element) -> list[str]:
    processes = root.findall(f"{{{BPMN_NS}}}process")
    executable = [p for p in processes if p.get("isExecutable", "true").lower() == "true"]
    return [str(p.get("id")) for p in (executable or processes)]


def load_form_files(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """Form files beside a diagram (``*.form`` form-js, ``*.json`` JSON Schema), by file name and id."""
    forms: dict[str, dict[str, Any]] = {}
    for path in paths:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BpmnError.single(str(path), f"form file cannot be read: {exc}") from None
        if isinstance(body, dict):
            forms[path.name] = body
            if body.get("id"):
                forms[str(body["id"])] = body
    return forms


def message_correlation_keys(root: etree._Element) -> dict[str, str | None]:
    """Message name -> correlation key expression, from ``zeebe:subscription correlationKey`` or,
    in spiffworkflow diagrams, the ``messagePath`` of a correlation property retrieval expression
    for that message (evaluated on the process data of the waiting instance)."""
    keys: dict[str, str | None] = {}
    for message in root.findall(f"{{{BPMN_NS}}}message"):
        name = message.get("name") or message.get("id") or ""
        subscription = message.find(f"{{{BPMN_NS}}}extensionElements/{{{ZEEBE_NS}}}subscription")
        key = subscription.get("correlationKey") if subscription is not None else None
        if key is None:
            key = _correlation_property_path(root, message.get("id"))
        keys[name] = strip_feel_marker(key) if key else None
    return keys


def _correlation_property_path(root: etree._Element, message_id: str | None) -> str | None:
    for retrieval in root.iter(f"{{{BPMN_NS}}}correlationPropertyRetrievalExpression"):
        if message_id is not None and retrieval.get("messageRef") == message_id:
            path = retrieval.find(f"{{{BPMN_NS}}}messagePath")
            if path is not None and (path.text or "").strip():
                return (path.text or "").strip()
    return None


def message_start_names(root: etree._Element, process: etree._Element | None) -> tuple[str, ...]:
    """Names of the messages that start ``process`` (its top-level message start events)."""
    if process is None:
        return ()
    by_id = {m.get("id"): m.get("name") or m.get("id") for m in root.findall(f"{{{BPMN_NS}}}message")}
    names = set()
    for start in process.findall(f"{{{BPMN_NS}}}startEvent"):
        for definition in start.findall(f"{{{BPMN_NS}}}messageEventDefinition"):
            name = by_id.get(definition.get("messageRef"))
            if name:
                names.add(str(name))
    return tuple(sorted(names))


def compile_diagram(
    data: bytes | str,
    source: str,
    known_types: set[str],
    process_id: str | None = None,
    forms: dict[str, dict[str, Any]] | None = None,
    decisions: dict[str, bytes] | None = None,
) -> CompiledProcess:
    """Lint, parse and serialize one process of a diagram. Raises :class:`BpmnError`.

    ``decisions``: DMN files (name -> content) for its business rule tasks; their decision tables
    are parsed into the spec (the spec is self-contained, the DMN files are not needed later)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    problems = lint_diagram(raw, source, known_types, decisions if decisions is not None else {})
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise BpmnError(errors)
    root = parse_diagram(raw, source)
    ids = executable_process_ids(root)
    if process_id is None:
        if len(ids) != 1:
            raise BpmnError.single(source, f"the file has processes {ids}; choose one with --process-id")
        process_id = ids[0]
    elif process_id not in ids:
        raise BpmnError.single(source, f"no executable process '{process_id}' in the file; it has {ids}")
    process = root.find(f"{{{BPMN_NS}}}process[@id='{process_id}']")
    normalize_expressions(root)
    parser = PlantBpmnParser(forms=forms)
    try:
        for name, dmn in sorted((decisions or {}).items()):
            parser.add_dmn_xml(parse_dmn(dmn, name), filename=name)
        parser.add_bpmn_xml(root, filename=source)
        bundle = SpecBundle(
            process_id=process_id,
            spec=parser.get_spec(process_id),
            subprocess_specs=parser.get_subprocess_specs(process_id),
            messages=message_correlation_keys(root),
            message_starts=message_start_names(root, process),
        )
    except ValidationException as exc:  # e.g. every process has isExecutable="false"
        line = spiff_line(root, exc)
        raise BpmnError.single(source, str(exc.args[0] if exc.args else exc), line, exc.id or process_id) from None
    spec_json = spec_to_json(bundle)
    return CompiledProcess(
        process_id=process_id,
        process_name=process.get("name") if process is not None else None,
        spec_json=spec_json,
        spec_sha256=sha256_of(spec_json),
        source_name=source,
        source_sha256=hashlib.sha256(raw).hexdigest(),
        warnings=tuple(p for p in problems if p.severity != "error"),
    )


def compile_file(
    path: Path, known_types: set[str], process_id: str | None = None
) -> tuple[CompiledProcess, bytes]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BpmnError.single(str(path), f"cannot read the file: {exc.strerror}") from None
    forms = load_form_files(sorted([*path.parent.glob("*.form"), *path.parent.glob("*.schema.json")]))
    decisions = decisions_for(path, raw)
    return compile_diagram(raw, str(path), known_types, process_id, forms, decisions), raw


def load_decision_files(paths: list[Path]) -> dict[str, bytes]:
    """DMN files beside a diagram, by file name."""
    decisions: dict[str, bytes] = {}
    for path in paths:
        try:
            decisions[str(path)] = path.read_bytes()
        except OSError as exc:
            raise BpmnError.single(str(path), f"cannot read the DMN file: {exc.strerror}") from None
    return decisions


def called_decision_ids(root: etree._Element) -> set[str]:
    """The decisions the diagram's business rule tasks call."""
    ids = set()
    for task in root.iter(f"{{{BPMN_NS}}}businessRuleTask"):
        decision_id = read_called_decision(task).get("decision_id")
        if decision_id:
            ids.add(str(decision_id))
    return ids


def decisions_for(path: Path, raw: bytes) -> dict[str, bytes]:
    """The DMN files beside the diagram at ``path`` that define a decision it calls: the ones ``mom lint``
    checks and the deploy compiles (one function, so both judge the same files). A DMN file nobody
    calls is not read further, so a broken one beside the diagram does not refuse it (as Camunda
    deploys each resource on its own); a malformed file is kept when its text names a called decision's
    id, so its error (file and line) is reported."""
    try:
        wanted = called_decision_ids(parse_diagram(raw, str(path)))
    except BpmnError:
        return {}  # the diagram's own error is what lint reports
    if not wanted:
        return {}
    decisions = load_decision_files(sorted(path.parent.glob("*.dmn")))
    return {name: data for name, data in decisions.items() if _defines_any(name, data, wanted)}


def _defines_any(name: str, data: bytes, wanted: set[str]) -> bool:
    try:
        root = parse_dmn(data, name)
    except BpmnError:
        return any(f'id="{decision_id}"'.encode() in data for decision_id in wanted)
    return any(str(etree.QName(e).localname) == "decision" and e.get("id") in wanted
               for e in root.iter() if isinstance(e.tag, str))
