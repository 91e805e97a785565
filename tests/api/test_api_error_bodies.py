"""Error bodies never echo the request (issue J.12): a 21 MB diagram refused as too long answered a
response as large as the request, FastAPI's validation errors carrying the whole ``input``."""

from __future__ import annotations

from api_client import Api

from bpmn.xml import MAX_DIAGRAM_BYTES


async def test_a_too_large_test_run_is_refused_without_echoing_it(api: Api) -> None:
    refused = await api.post("/lint/test-run", "erin", json={"xml": "x" * (MAX_DIAGRAM_BYTES + 1)})
    assert refused.status_code == 422, refused.text[:300]
    assert len(refused.content) < 2_000, len(refused.content)
    [error] = refused.json()["detail"]
    assert error["loc"] == ["body", "xml"] and "input" not in error and "at most" in error["msg"]


async def test_a_long_wrong_value_is_named_not_echoed(api: Api) -> None:
    refused = await api.post("/lint/test-run", "erin", json={"xml": "<x/>", "timeout": "9" * 10 + "x" * 1_000_000})
    assert refused.status_code == 422
    assert len(refused.content) < 2_000, len(refused.content)
    assert refused.json()["detail"][0]["loc"] == ["body", "timeout"]
    # a variable name of a megabyte, refused where it stands: the location is cut too
    named = await api.post("/instances", "sam", json={"process_id": "p", "variables": [{"k" * 1_000_000: 1}]})
    assert named.status_code == 422 and len(named.content) < 5_000, len(named.content)
