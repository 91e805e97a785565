"""Bad input into the importers: BPMN diagrams (lint, compile, deploy), B2MML documents and form
data. Every outcome is a success or the importer's own error naming the file (and line/element
where known): never another exception, never a hang, never a half-written store, never a file
read or a network request caused by the document.

Bounded: a fixed number of hypothesis examples per test (``CHAOS_EXAMPLES``) and a deadline per
example; the whole module runs in well under a minute on a shared 2-core machine.
"""

from __future__ import annotations

import http.server
import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from bpmn.deploy import compile_diagram
from bpmn.errors import BpmnError
from bpmn.forms import form_js_to_json_schema, validate_form_data
from bpmn.lint import lint_diagram
from bpmn.xml import BPMN_NS, MAX_DIAGRAM_BYTES
from mom.b2mml import B2mmlError, read_production_performance, read_production_schedule
from mom.deployment import deploy_bytes
from mom.process_store import ProcessStore
from mom.task_catalog import known_task_types

DIAGRAMS = Path(__file__).resolve().parent.parent / "diagrams"
SEEDS = {p.name: p.read_bytes() for p in sorted(DIAGRAMS.glob("*.bpmn"))}
DECISIONS = {p.name: p.read_bytes() for p in sorted(DIAGRAMS.glob("*.dmn"))}  # for business rule tasks
KNOWN = known_task_types()
SOURCE = "fuzzed.bpmn"
EXAMPLES = int(os.environ.get("CHAOS_EXAMPLES", "60"))
PER_EXAMPLE_S = 5.0
FUZZ = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=PER_EXAMPLE_S), database=None,
                derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def import_diagram(data: bytes, source: str = SOURCE) -> str:
    """Lint and compile ``data``: 'ok' or 'refused'; any other exception fails the test."""
    started = time.monotonic()
    problems = lint_diagram(data, source, KNOWN)
    assert all(p.file == source for p in problems), problems
    try:
        compile_diagram(data, source, KNOWN, decisions=DECISIONS)
        outcome = "ok"
    except BpmnError as exc:
        assert exc.problems, "a BpmnError without problems says nothing"
        assert all(p.file == source and p.message for p in exc.problems), exc.problems
        assert str(exc).startswith(source)
        outcome = "refused"
    if outcome == "ok":
        assert not [p for p in problems if p.severity == "error"], "lint found errors but compile accepted"
    assert time.monotonic() - started < PER_EXAMPLE_S
    return outcome


# -- malformed and mutated documents -----------------------------------------------------------------

WEIRD_VALUES = ["", " ", "'", '"', "x'y\"z", "&amp;", "1e999", "-1", "PT", "P-1D", "=", "= x +", "${x}",
                "__import__('os').system('true')", "open('/etc/passwd')", "é∂🏭", "\t\n", "a" * 3000,
                "ns1:unknown", "false", "true", "None", "R/PT1S", "2026-13-45T99:99:99"]
XML_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]) | st.sampled_from("\t\n"),
                   max_size=60)
NEW_TAGS = ["task", "process", "subProcess", "callActivity", "complexGateway", "startEvent", "endEvent",
            "sequenceFlow", "timerEventDefinition", "signalEventDefinition", "conditionExpression", "script",
            "definitions", "boundaryEvent", "multiInstanceLoopCharacteristics", "unknownBpmnThing"]


@st.composite
def mutated_diagram(draw: st.DrawFn) -> bytes:
    """A real diagram with one to three structural changes (remove, retag, re-attribute, re-text,
    move, add unknown extensions)."""
    root = etree.fromstring(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 3))):
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        element = elements[draw(st.integers(0, len(elements) - 1))]
        operation = draw(st.integers(0, 6))
        parent = element.getparent()
        if operation == 0 and parent is not None:
            parent.remove(element)
        elif operation == 1:
            name = draw(st.sampled_from([*sorted(element.attrib), "id", "isExecutable", "default", "sourceRef"]))
            element.set(name, draw(st.sampled_from(WEIRD_VALUES) | XML_TEXT))
        elif operation == 2:
            element.text = draw(st.sampled_from(WEIRD_VALUES) | XML_TEXT)
        elif operation == 3:
            extension = etree.SubElement(element, f"{{urn:vendor:{draw(st.integers(0, 3))}}}custom", {"x": "1"})
            extension.text = draw(XML_TEXT)
        elif operation == 4:
            element.tag = f"{{{BPMN_NS}}}{draw(st.sampled_from(NEW_TAGS))}"
        elif operation == 5:
            other = elements[draw(st.integers(0, len(elements) - 1))]
            if other is not element and element not in other.iterancestors():
                other.append(element)
        else:
            copy = etree.fromstring(etree.tostring(element))
            (parent if parent is not None else root).append(copy)  # duplicate ids
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


@st.composite
def corrupted_bytes(draw: st.DrawFn) -> bytes:
    """A real diagram with bytes deleted, inserted, duplicated or cut off."""
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(data)))
        end = min(len(data), start + draw(st.integers(0, 300)))
        operation = draw(st.integers(0, 3))
        if operation == 0:
            del data[start:end]
        elif operation == 1:
            data[start:start] = draw(st.binary(max_size=40) | st.sampled_from(
                [b"<", b"&", b"]]>", b"<![CDATA[", b"&#0;", b"&#x110000;", b"\xff\xfe", b"<?xml version='1.0'?>",
                 b"<!-- ", b"&undefined;", b"<bpmn:task id='t'>"]))
        elif operation == 2:
            data[start:start] = data[start:end]
        else:
            del data[start:]
    return bytes(data)


@FUZZ
@given(data=mutated_diagram())
def test_mutated_real_diagrams_are_accepted_or_refused_by_name(data: bytes) -> None:
    import_diagram(data)


@FUZZ
@given(data=corrupted_bytes())
def test_corrupted_bytes_are_refused_naming_the_file(data: bytes) -> None:
    import_diagram(data)


@FUZZ
@given(data=st.binary(max_size=4000) | st.text(max_size=2000).map(str.encode))
def test_random_bytes_are_refused_naming_the_file(data: bytes) -> None:
    assert import_diagram(data) == "refused"


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_real_diagram_still_imports(name: str) -> None:
    """The fuzzing starts from good diagrams: they must stay good (else the mutations mean little)."""
    assert import_diagram(SEEDS[name], name) == "ok"


def test_a_process_nobody_may_run_is_refused_not_a_crash() -> None:
    """Found by the fuzzer: isExecutable="false" on the only process made compile raise
    SpiffWorkflow's ValidationException instead of a BpmnError."""
    data = SEEDS["approval.bpmn"].replace(b'isExecutable="true"', b'isExecutable="false"')
    with pytest.raises(BpmnError, match=r"fuzzed\.bpmn.*not executable"):
        compile_diagram(data, SOURCE, KNOWN)


# -- entities, external references, size and depth ---------------------------------------------------

def _minimal(body: str = "", prolog: str = "") -> bytes:
    return (f'<?xml version="1.0"?>{prolog}<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="d">'
            f'<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>{body}</bpmn:process>'
            "</bpmn:definitions>").encode()


BILLION_LAUGHS = _minimal(
    "<bpmn:documentation>&lol9;</bpmn:documentation>",
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
              for i in range(1, 10))
    + "]>",
)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-RECIPE-4711")
    return path


@pytest.fixture
def loopback_http() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on loopback that records every request (none may arrive)."""
    hits: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY leak "FROM-THE-NETWORK">')

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def hostile_documents(secret: Path, url: str) -> dict[str, bytes]:
    return {
        "billion laughs": BILLION_LAUGHS,
        "external entity file://": _minimal(
            "<bpmn:documentation>&xxe;</bpmn:documentation>",
            f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret}">]>'),
        "external entity http://": _minimal(
            "<bpmn:documentation>&xxe;</bpmn:documentation>",
            f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "{url}/entity">]>'),
        "parameter entity http://": _minimal(
            "", f'<!DOCTYPE d [<!ENTITY % remote SYSTEM "{url}/dtd"> %remote;]>'),
        "external DTD": _minimal("", f'<!DOCTYPE definitions SYSTEM "{url}/schema.dtd">'),
        "lowercase doctype after a long comment": _minimal(
            "", "<!--" + "x" * 5000 + f'--><!doctype d [<!ENTITY xxe SYSTEM "file://{secret}">]>'),
        "xinclude": _minimal(
            f'<bpmn:documentation><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{secret}" '
            f'parse="text"/></bpmn:documentation>'),
        "schemaLocation": _minimal().replace(
            b'id="d"', f'id="d" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                       f'xsi:schemaLocation="{BPMN_NS} {url}/BPMN20.xsd"'.encode()),
    }


def test_entities_and_external_references_read_no_file_and_reach_no_network(
    secret_file: Path, loopback_http: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, hits = loopback_http
    store = ProcessStore(tmp_path / "store")
    for name, data in hostile_documents(secret_file, url).items():
        started = time.monotonic()
        outcome = import_diagram(data, f"{name}.bpmn")
        if b"<!DOCTYPE" in data.upper() or b"ENTITY" in data:
            assert outcome == "refused", name
            problems = lint_diagram(data, f"{name}.bpmn", KNOWN)
            assert any("DTD" in p.message or "entit" in p.message for p in problems), (name, problems)
        try:
            deployment = deploy_bytes(store, data, f"{name}.bpmn", deployed_by="fuzz")
        except BpmnError as exc:
            text = str(exc)
        else:
            text = deployment.compiled.spec_json
        assert "TOP-SECRET" not in text and "FROM-THE-NETWORK" not in text, name
        assert time.monotonic() - started < 2.0, f"{name} took {time.monotonic() - started:.1f} s"
    assert hits == [], f"the importer reached the network: {hits}"


def test_a_diagram_over_the_size_limit_is_refused_fast_and_names_the_limit() -> None:
    padding = b"<!--" + b"x" * (MAX_DIAGRAM_BYTES + 1024) + b"-->"
    data = _minimal().replace(b"<bpmn:definitions", padding + b"<bpmn:definitions", 1)
    started = time.monotonic()
    with pytest.raises(BpmnError, match=rf"fuzzed\.bpmn: error: diagram is {len(data)} bytes; the limit is"):
        compile_diagram(data, SOURCE, KNOWN)
    assert time.monotonic() - started < 1.0


def test_a_huge_text_node_under_the_size_limit_is_refused_or_read_in_bounded_time() -> None:
    data = _minimal("<bpmn:documentation>" + "y" * (12 * 1024 * 1024) + "</bpmn:documentation>")
    started = time.monotonic()
    import_diagram(data)
    assert time.monotonic() - started < PER_EXAMPLE_S


@pytest.mark.parametrize("depth", [150, 250, 5000, 100_000])
def test_deep_nesting_is_refused_by_name_or_read(depth: int) -> None:
    """Nested subprocesses (real BPMN) to well past the parser's depth limits."""
    opening = "".join(f'<bpmn:subProcess id="sp{i}"><bpmn:startEvent id="s{i}"/>' for i in range(depth))
    data = _minimal(opening + "</bpmn:subProcess>" * depth)
    outcome = import_diagram(data)
    if depth > 200:
        assert outcome == "refused"
        problems = lint_diagram(data, SOURCE, KNOWN)
        assert any("deep" in p.message or "depth" in p.message.lower() for p in problems), problems


def test_unknown_extensions_are_ignored_or_named() -> None:
    data = SEEDS["approval.bpmn"].replace(
        b"</bpmn:definitions>",
        b'<vendor:thing xmlns:vendor="urn:vendor" id="v1"><vendor:inner a="b"/></vendor:thing></bpmn:definitions>',
    )
    assert import_diagram(data) == "ok"
    unknown_element = _minimal('<bpmn:complexGateway id="cg"/>')
    problems = lint_diagram(unknown_element, SOURCE, KNOWN)
    assert any(p.element_id == "cg" and "not supported" in p.message for p in problems), problems


# -- deploy: nothing written on refusal ----------------------------------------------------------------

def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@settings(FUZZ, max_examples=max(10, EXAMPLES // 3))
@given(data=mutated_diagram())
def test_deploy_writes_nothing_when_it_refuses(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        store = ProcessStore(root)
        deploy_bytes(store, SEEDS["approval.bpmn"], "approval.bpmn", deployed_by="fuzz")
        before = _files(root)
        try:
            deployment = deploy_bytes(store, data, SOURCE, deployed_by="fuzz")
        except BpmnError as exc:
            assert all(p.file == SOURCE for p in exc.problems)
            assert _files(root) == before, "a refused deploy changed the store"
        else:
            assert deployment.version.process_id == deployment.compiled.process_id


# -- B2MML ---------------------------------------------------------------------------------------------

B2MML_SEED = (Path(__file__).resolve().parent.parent / "connectors" / "test_b2mml.py").read_text()
SCHEDULE = B2MML_SEED.split('SCHEDULE = """', 1)[1].split('"""', 1)[0].encode()


def import_b2mml(data: bytes, source: str = "fuzzed.xml") -> str:
    outcomes = []
    for read in (read_production_schedule, read_production_performance):
        try:
            read(data, source)
            outcomes.append("ok")
        except B2mmlError as exc:
            assert exc.problems and all(p.file == source and p.message for p in exc.problems), exc.problems
            outcomes.append("refused")
    return "ok" if "ok" in outcomes else "refused"


@st.composite
def mutated_schedule(draw: st.DrawFn) -> bytes:
    root = etree.fromstring(SCHEDULE)
    for _ in range(draw(st.integers(1, 3))):
        elements = list(root.iter())
        element = elements[draw(st.integers(0, len(elements) - 1))]
        operation = draw(st.integers(0, 3))
        if operation == 0 and element.getparent() is not None:
            element.getparent().remove(element)  # type: ignore[union-attr]
        elif operation == 1:
            element.text = draw(st.sampled_from(["", "-5", "NaN", "sNaN", "1e999999", "9" * 5000, "Infinity", "x'y",
                                                  "2026-02-30T00:00:00Z", "2026-03-01T08:00:00"]) | XML_TEXT)
        elif operation == 2:
            element.append(etree.fromstring(etree.tostring(element)))
        else:
            element.tag = "{http://www.mesa.org/xml/B2MML}" + draw(st.sampled_from(
                ["ProductionRequest", "Quantity", "DataArea", "ProductionPerformance", "Unknown", "ID"]))
    return bytes(etree.tostring(root))


@FUZZ
@given(data=mutated_schedule() | st.binary(max_size=2000))
def test_b2mml_documents_are_read_or_refused_naming_the_file(data: bytes) -> None:
    import_b2mml(data)


def test_b2mml_refuses_entities_and_reaches_nothing(secret_file: Path, loopback_http: tuple[str, list[str]]) -> None:
    url, hits = loopback_http
    body = SCHEDULE.decode().split("?>", 1)[1]
    for prolog in (f'<!DOCTYPE s [<!ENTITY xxe SYSTEM "file://{secret_file}">]>',
                   f'<!DOCTYPE s [<!ENTITY % r SYSTEM "{url}/dtd"> %r;]>',
                   '<!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'):
        data = (prolog + body.replace("<Description>", "<Description>&xxe;")).encode()
        with pytest.raises(B2mmlError, match=r"fuzzed\.xml: DTDs and entity declarations are not allowed"):
            read_production_schedule(data, "fuzzed.xml")
    deep = ("<ProductionSchedule xmlns='http://www.mesa.org/xml/B2MML'>" + "<X>" * 20_000 + "</X>" * 20_000
            + "</ProductionSchedule>").encode()
    assert import_b2mml(deep) == "refused"
    assert hits == []


# -- form data -----------------------------------------------------------------------------------------

FORM = {"id": "inspect", "components": [
    {"type": "number", "key": "qty", "validate": {"required": True, "min": 1, "max": 1000}},
    {"type": "textfield", "key": "lot", "validate": {"pattern": "^L[0-9]{3}$", "maxLength": 10}},
    {"type": "checkbox", "key": "ok"},
    {"type": "select", "key": "grade", "values": [{"value": "A"}, {"value": "B"}]},
    {"type": "checklist", "key": "checks", "values": [{"value": "seal"}, {"value": "label"}]},
]}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@FUZZ
@given(data=JSON_VALUES | st.dictionaries(st.sampled_from(["qty", "lot", "ok", "grade", "checks", "x", "_form"]),
                                          JSON_VALUES, max_size=6))
def test_form_data_gets_errors_per_field_never_an_exception(data: Any) -> None:
    schema = form_js_to_json_schema(FORM)
    errors = validate_form_data(schema, data)
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in errors.items())
    if not isinstance(data, dict):
        assert set(errors) == {"_form"}


@FUZZ
@given(validate=st.dictionaries(st.sampled_from(["min", "max", "minLength", "maxLength", "pattern", "required"]),
                                JSON_VALUES | st.sampled_from(["(", "[a-", "(a+)+$", "(x*)*y", "\\"]), max_size=3),
       kind=st.sampled_from(["number", "textfield", "select", "checklist"]),
       value=JSON_VALUES)
def test_a_broken_form_definition_is_named_never_an_exception(validate: dict[str, Any], kind: str, value: Any) -> None:
    schema = form_js_to_json_schema({"components": [{"type": kind, "key": "f", "validate": validate}]})
    started = time.monotonic()
    errors = validate_form_data(schema, {"f": value if not isinstance(value, str) else value + "a" * 40 + "!"})
    assert time.monotonic() - started < 1.0
    assert all(isinstance(v, str) and v for v in errors.values())


def test_form_refusals_name_the_field_and_the_broken_definition() -> None:
    schema = form_js_to_json_schema(FORM)
    assert validate_form_data(schema, {"lot": "X1"}) == {
        "qty": "is required", "lot": "'X1' does not match '^L[0-9]{3}$'"}
    assert validate_form_data(schema, {"qty": float("nan")}) == {
        "qty": "must be a finite number (NaN and Infinity are not numbers)"}
    broken = form_js_to_json_schema({"components": [{"type": "number", "key": "q", "validate": {"min": "one"}}]})
    assert "properties/q/minimum" in validate_form_data(broken, {"q": 3})["_form"]
    redos = form_js_to_json_schema({"components": [{"type": "textfield", "key": "s",
                                                    "validate": {"pattern": "(a+)+$"}}]})
    started = time.monotonic()
    assert "nests quantifiers" in validate_form_data(redos, {"s": "a" * 40 + "!"})["_form"]
    assert time.monotonic() - started < 0.5
