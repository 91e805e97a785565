"""Stored histories replay under the current code: a change that would break running instances fails here.

The histories are those of tests/replay/scenarios.py (small diagrams: event subprocesses of every
trigger, across continue-as-new, call activities whose parent continued as new while the child ran,
recorded with ``.venv/bin/python tests/replay/scenarios.py [NAME ...]``) and of every reference process
in bpmn/processes, recorded from the end-to-end tests with
``MOM_RECORD_HISTORIES=tests/replay/histories .venv/bin/pytest tests/processes``. Record again only when
a change is meant to be incompatible with running instances (and plan their migration). An instance
that continued as new is stored run by run (``NAME-run1``...): each run ends completed or continued.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

import bpmn.spec_cache as spec_cache
import workflows.bpmn_process as bpmn_process
from bpmn.deploy import compile_diagram
from mom.task_catalog import known_task_types
from worker import sandbox_runner
from workflows.bpmn_process import BpmnProcess
from workflows.contracts import CHILD_OUTCOME_ACTIVITY

HISTORIES = Path(__file__).resolve().parent / "histories"
DIAGRAMS = Path(__file__).resolve().parents[1] / "diagrams"
NAMES = sorted(p.name.removesuffix(".history.json") for p in HISTORIES.glob("*.history.json"))


def stored_spec(sha256: str) -> str:
    return (HISTORIES / f"{sha256}.spec.json").read_text()


@pytest.fixture
def stored_specs() -> Iterator[None]:
    spec_cache._cache.clear()
    spec_cache.install_loader(stored_spec)
    yield
    spec_cache._cache.clear()


def history(name: str) -> WorkflowHistory:
    """The stored history under the workflow id it ran with, when recorded (call activities derive
    their child ids from it), else ``replay-NAME``."""
    text = (HISTORIES / f"{name}.history.json").read_text()
    index = HISTORIES / "workflow_ids.json"
    ids = json.loads(index.read_text()) if index.is_file() else {}
    return WorkflowHistory.from_json(ids.get(name, f"replay-{name}"), text)


CLOSED = ("EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED", "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW")


def test_every_stored_history_has_its_spec() -> None:
    assert len(NAMES) >= 4
    for name in NAMES:
        events = json.loads((HISTORIES / f"{name}.history.json").read_text())["events"]
        assert events[-1]["eventType"] in CLOSED, name
        assert (HISTORIES / f"{_spec_sha(name)}.spec.json").is_file(), name


@pytest.mark.parametrize("name", NAMES)
async def test_stored_history_replays(name: str, stored_specs: None) -> None:
    replayer = Replayer(workflows=[BpmnProcess], workflow_runner=sandbox_runner())
    result = await replayer.replay_workflow(history(name), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{name}: {result.replay_failure}"


async def test_an_incompatible_diagram_change_is_caught(stored_specs: None) -> None:
    """Insert a step before the approval: replaying the approval history must fail."""
    text = (DIAGRAMS / "approval.bpmn").read_text()
    changed = text.replace('targetRef="approve" />', 'targetRef="extra_log" />', 1).replace(
        "</bpmn:process>",
        '<bpmn:serviceTask id="extra_log"><bpmn:extensionElements><zeebe:taskDefinition type="mom.log" />'
        '<zeebe:ioMapping><zeebe:input source="=&quot;extra&quot;" target="message" /></zeebe:ioMapping>'
        '</bpmn:extensionElements></bpmn:serviceTask>'
        '<bpmn:sequenceFlow id="f_extra" sourceRef="extra_log" targetRef="approve" /></bpmn:process>',
    )
    compiled = compile_diagram(changed, "approval-changed.bpmn", known_task_types())
    original = json.loads(history("approval").to_json())["events"][0]
    sha = json.loads(_decode(original["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]["data"]))[
        "spec_sha256"]
    spec_cache._cache.clear()
    spec_cache.install_loader(lambda _sha: compiled.spec_json)
    spec_cache._cache[sha] = spec_cache.spec_from_json(compiled.spec_json)
    replayer = Replayer(workflows=[BpmnProcess], workflow_runner=sandbox_runner())
    result = await replayer.replay_workflow(history("approval"), raise_on_replay_failure=False)
    failure = result.replay_failure
    assert failure is not None
    # Either the SDK sees other commands, or the approval the supervisor gave no longer fits.
    assert isinstance(failure, NondeterminismError) or "no UserTask with id" in str(failure)


@pytest.mark.parametrize(("name", "kinds"), [
    # event subprocesses: the trigger each one covers shows in the elements the instance completed
    ("esp_signal", ["on_note", "on_halt"]),  # non-interrupting (twice), then interrupting
    ("esp_escalation", ["on_late", "on_abort"]),
    ("esp_conditional", ["on_hot", "on_scrap"]),
    ("esp_timer_cycle_rounds", ["on_round"]),
    ("esp_timer_cycle_expired", ["on_expiry"]),
    ("esp_embedded", ["on_short", "on_stage_abort"]),  # inside the embedded subprocess "stage"
    ("esp_timer_cycle_can-run2", ["on_round"]),  # listening again after a continue-as-new
    ("esp_escalation_can-run2", ["on_abort"]),
])
def test_the_event_subprocess_histories_cover_their_triggers(name: str, kinds: list[str]) -> None:
    result = _final_result(name)
    for element in kinds:
        assert element in result["completed"], (name, element, result["completed"])


def test_the_call_activity_histories_cover_a_parent_that_continued_as_new_while_the_child_ran() -> None:
    first = _events("call_can_parent-run1")
    started = [e["startChildWorkflowExecutionInitiatedEventAttributes"] for e in first
               if "startChildWorkflowExecutionInitiatedEventAttributes" in e]
    assert [s["parentClosePolicy"] for s in started] == ["PARENT_CLOSE_POLICY_ABANDON"]
    assert first[-1]["eventType"] == CLOSED[1]
    second = _events("call_can_parent-run2")  # took the child's end from its signal, not a child event
    assert any((e.get("workflowExecutionSignaledEventAttributes") or {}).get("signalName") == "child_finished"
               for e in second)
    assert _activities(second) == [CHILD_OUTCOME_ACTIVITY]  # watched, and cancelled once the signal came
    child = _events("call_can_child")
    parent = child[0]["workflowExecutionStartedEventAttributes"]["parentWorkflowExecution"]
    assert parent["workflowId"] == "call-long-replay" and started[0]["workflowId"].startswith("call-long-replay/")
    assert any((e.get("signalExternalWorkflowExecutionInitiatedEventAttributes") or {}).get("signalName")
               == "child_finished" for e in child)  # the child reported its end itself
    # the child terminated after a continue-as-new: the outcome activity's report, an incident, a retry
    lost = _events("call_lost_parent-run2")
    assert _activities(lost) == [CHILD_OUTCOME_ACTIVITY]
    assert any("workflowExecutionUpdateAcceptedEventAttributes" in e for e in lost)
    assert _final_result("call_lost_parent-run4")["completed"][-1] == "end"


async def test_stored_history_replays_without_the_carried_child_watch_patch_fails(
        stored_specs: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Removing the patch marker (as if the outcome activity were started unconditionally under
    another marker) must not go unnoticed: the recorded run scheduled it."""
    monkeypatch.setattr(bpmn_process, "CHILD_WATCH_PATCH", "carried-child-watch-removed")
    replayer = Replayer(workflows=[BpmnProcess], workflow_runner=sandbox_runner())
    result = await replayer.replay_workflow(history("call_can_parent-run2"), raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, NondeterminismError), result.replay_failure


async def test_a_service_task_in_place_of_a_script_in_a_signal_event_subprocess_is_caught(
        stored_specs: None) -> None:
    """The stored esp_signal instance under a diagram whose non-interrupting signal event subprocess
    runs a service task instead of its script: the replay schedules an activity the history lacks."""
    text = (DIAGRAMS / "esp_signal.bpmn").read_text()
    script = '<bpmn:scriptTask id="record_note">'
    changed = text.replace(script, '<bpmn:serviceTask id="record_note"><bpmn:extensionElements>'
                           '<zeebe:taskDefinition type="mom.log" /><zeebe:ioMapping>'
                           '<zeebe:input source="=&quot;note&quot;" target="message" /></zeebe:ioMapping>'
                           '</bpmn:extensionElements>', 1)
    changed = changed.replace("<bpmn:script>noted = True</bpmn:script></bpmn:scriptTask>", "</bpmn:serviceTask>", 1)
    assert changed != text and "scriptTask" not in changed.split("on_halt")[0]
    failure = await _replay_under("esp_signal", changed)
    assert isinstance(failure, NondeterminismError), failure


async def test_a_timer_cycle_event_subprocess_made_interrupting_is_caught(stored_specs: None) -> None:
    """esp_timer_cycle_rounds with its reminder cycle interrupting: the first round ends the process
    where the history started the next round's timer."""
    text = (DIAGRAMS / "esp_timer_cycle.bpmn").read_text()
    changed = text.replace('<bpmn:startEvent id="round_due" isInterrupting="false"', '<bpmn:startEvent id="round_due"')
    assert changed != text
    failure = await _replay_under("esp_timer_cycle_rounds", changed)
    assert isinstance(failure, NondeterminismError), failure


async def test_what_replay_does_not_catch_a_diagram_change_with_the_same_commands(stored_specs: None) -> None:
    """Temporal compares commands (activities, timers, children), not results: swapping the signals of
    esp_signal's two script-only event subprocesses changes what the instance did (the first note now
    interrupts it) but not one command, so the replay passes. Such changes need a migration check
    (bpmn migration_problems), not the replay test."""
    text = (DIAGRAMS / "esp_signal.bpmn").read_text()
    swapped = text.replace('signalRef="Sig_note"', 'signalRef="TMP"').replace(
        'signalRef="Sig_stop"', 'signalRef="Sig_note"').replace('signalRef="TMP"', 'signalRef="Sig_stop"')
    assert swapped != text
    assert await _replay_under("esp_signal", swapped) is None


async def _replay_under(name: str, changed: str) -> Exception | None:
    """Replay the stored history ``name`` with its spec replaced by the compiled ``changed`` diagram."""
    compiled = compile_diagram(changed, f"{name}-changed.bpmn", known_task_types())
    spec_cache._cache.clear()
    spec_cache.install_loader(lambda _sha: compiled.spec_json)
    spec_cache._cache[_spec_sha(name)] = spec_cache.spec_from_json(compiled.spec_json)
    replayer = Replayer(workflows=[BpmnProcess], workflow_runner=sandbox_runner())
    result = await replayer.replay_workflow(history(name), raise_on_replay_failure=False)
    return result.replay_failure

def _decode(data: str) -> str:
    import base64

    return base64.b64decode(data).decode()


def _events(name: str) -> list[dict[str, Any]]:
    return list(json.loads((HISTORIES / f"{name}.history.json").read_text())["events"])


def _spec_sha(name: str) -> str:
    started = _events(name)[0]["workflowExecutionStartedEventAttributes"]
    return str(json.loads(_decode(started["input"]["payloads"][0]["data"]))["spec_sha256"])


def _activities(events: list[dict[str, Any]]) -> list[str]:
    return [e["activityTaskScheduledEventAttributes"]["activityType"]["name"] for e in events
            if "activityTaskScheduledEventAttributes" in e]


def _final_result(name: str) -> dict[str, Any]:
    last = _events(name)[-1]
    payload = last["workflowExecutionCompletedEventAttributes"]["result"]["payloads"][0]["data"]
    return dict(json.loads(_decode(payload)))
