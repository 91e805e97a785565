"""The text check before parsing decodes as the parser does and looks at the whole prolog (issue
J.12): a DOCTYPE after a 4 KB comment, or an entity in a UTF-16 file, passed it; a Latin-1 file
passed /lint but deploy refused it. /lint and deploy now read through the same function."""

from __future__ import annotations

from api_client import Api

DIAGRAM = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
           '<bpmn:process id="pruefung" name="Prüfung der Schweißnaht" isExecutable="true">'
           '<bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e" />'
           '<bpmn:endEvent id="e" /></bpmn:process></bpmn:definitions>')


async def lint(api: Api, body: bytes) -> dict[str, object]:
    response = await api.http.post("/lint", content=body, headers={**await api.as_("erin"),
                                                                 "Content-Type": "application/xml"})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_doctype_anywhere_in_the_prolog_is_refused(api: Api) -> None:
    late = ('<?xml version="1.0"?><!--' + "padding " * 600 + '-->\n<!DOCTYPE bpmn:definitions '
            '[<!ELEMENT bpmn:definitions ANY>]>' + DIAGRAM).encode()
    result = await lint(api, late)
    assert result["ok"] is False and "DTD" in str(result["problems"])


async def test_an_entity_in_a_utf16_file_is_refused(api: Api) -> None:
    utf16 = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY po "PO-1">]>' + DIAGRAM).encode("utf-16")
    result = await lint(api, utf16)
    assert result["ok"] is False and "DTD" in str(result["problems"])
    plain = ('<?xml version="1.0" encoding="UTF-16"?>' + DIAGRAM).encode("utf-16")
    assert (await lint(api, plain))["ok"] is True


async def test_a_latin1_file_lints_and_deploys_alike(api: Api) -> None:
    latin1 = ('<?xml version="1.0" encoding="ISO-8859-1"?>' + DIAGRAM).encode("latin-1")
    assert (await lint(api, latin1))["ok"] is True
    deployed = await api.post("/process-definitions", "erin",
                              files={"file": ("pruefung.bpmn", latin1, "application/xml")})
    assert deployed.status_code in (200, 201), deployed.text
    assert deployed.json()["process_id"] == "pruefung"
    # undeclared Latin-1 is not UTF-8: both refuse it, naming the byte
    undeclared = DIAGRAM.encode("latin-1")
    result = await lint(api, undeclared)
    assert result["ok"] is False and "not UTF-8" in str(result["problems"])
    refused = await api.post("/process-definitions", "erin",
                             files={"file": ("pruefung.bpmn", undeclared, "application/xml")})
    assert refused.status_code == 422 and "not UTF-8" in refused.text
