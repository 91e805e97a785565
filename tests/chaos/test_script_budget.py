"""Scripts and expressions that would exhaust the worker fail on a budget, naming the element.

A diagram script runs inside a Temporal workflow task: a script that loops forever or builds a
value of a trillion items would stall the worker thread, and Temporal would retry the stalled task
forever. Each resource-exhausting attempt is put where a process engineer would put it (script
task, gateway condition, user-task priority, service-task input mapping), and:

1. ``mom lint`` / deploy accepts the diagram without running anything (it cannot know the data);
2. running it in-process ends, fast, in an :class:`EngineIncident` naming the element and the
   limit that stopped it (no timing assertions: the pytest-timeout markers only guard the suite);
3. on the real Temporal dev server, each runaway instance shows an incident naming its element,
   with no failed workflow task, while a normal instance on the same worker completes.

The budget counts operations, never time, so the same script fails the same way on replay.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from support.processes import DIAGRAMS, start, wait_for_state
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bpmn.deploy import compile_diagram
from bpmn.dialect import normalize_expressions
from bpmn.engine import EngineIncident, ProcessRun
from bpmn.lint import lint_diagram
from bpmn.parser import PlantBpmnParser
from bpmn.script_budget import Budget, ScriptBudgetExceeded, ScriptLimits, configured_limits, instrument
from bpmn.script_engine import RestrictedEnvironment, check_source
from bpmn.spec_bundle import SpecBundle
from bpmn.xml import parse_diagram
from mom import instances
from mom.settings import load_settings
from mom.task_catalog import known_task_types
from worker import build_worker

OPERATIONS, SIZE, INTEGER, DEPTH, DATA = (
    "MOM_SCRIPT_MAX_OPERATIONS", "MOM_SCRIPT_MAX_SIZE", "MOM_SCRIPT_MAX_INT_DIGITS", "MOM_SCRIPT_MAX_DEPTH",
    "MOM_SCRIPT_MAX_DATA",
)


@dataclass(frozen=True)
class Attack:
    name: str
    code: str  # an expression, unless statement=True
    limit: str  # the setting named by the error
    statement: bool = False


ATTACKS = [
    Attack("power tower", "9**9**9**9", INTEGER),
    Attack("huge string", "'x' * 10**12", SIZE),
    Attack("endless loop", "while True:\n    pass", OPERATIONS, statement=True),
    Attack("sum of a huge range", "sum(range(10**12))", OPERATIONS),
    Attack("huge list", "[0] * 10**10", SIZE),
    Attack("huge shift", "2 << 10**10", INTEGER),
    Attack("endless recursion through lambdas", "(lambda f: f(f, 0))(lambda f, n: f(f, n + 1))", DEPTH),
    Attack("exponential recursion through lambdas",
           "(lambda f: f(f, 64))(lambda f, n: 1 if n == 0 else f(f, n - 1) + f(f, n - 1))", OPERATIONS),
    Attack("huge f-string width", "f'{1:>10000000000}'", SIZE),
    Attack("huge format() width", "format(7, '>10000000000')", SIZE),
    Attack("huge %-format width", "'%10000000000d' % 7", SIZE),
    Attack("int to str of 10**10**6", "str(10**10**6)", INTEGER),
    Attack("int to str of big numbers in a loop", "[str(10**4000) for _ in range(10**6)]", OPERATIONS),
    Attack("lazy map consumed by a built-in", "sorted(map(abs, range(10**12)))", OPERATIONS),
    Attack("membership in a huge range", "None in range(10**18)", OPERATIONS),
    Attack("text of nested lists", "str([[0] * 1000] * 10**6)", SIZE),
    Attack("math.factorial", "math.factorial(10**8)", INTEGER),
    Attack("math.prod of a range", "math.prod(range(1, 10**6))", INTEGER),
    Attack("key function called by a built-in", "max(range(10**7), key=lambda x: -x)", OPERATIONS),
    Attack("list.extend from a lazy map", "[].extend(map(abs, range(10**12)))", OPERATIONS),
    Attack("int.to_bytes", "(7).to_bytes(10**10, 'big')", SIZE),
    Attack("list doubling", "x = [0]\nfor _ in range(64):\n    x += x", SIZE, statement=True),
    Attack("swallowing the budget error",
           "while True:\n    try:\n        while True:\n            pass\n    except:\n        pass",
           OPERATIONS, statement=True),
    Attack("huge data left behind", "lots = ['y' * 10**6] * 10**6", DATA, statement=True),
    # charged by the items compared, not by the outer length (issue J.8: ~4 s, a deadlock error every try)
    Attack("comparison of nested lists", "[[0] * 1000000] * 8000 == [[0] * 1000000] * 8000", OPERATIONS),
    Attack("ordering of nested lists", "[[0] * 1000000] * 8000 <= [[0] * 1000000] * 8000", OPERATIONS),
    Attack("membership of a list in nested lists", "[0] * 1000000 in [[0] * 1000000] * 8000", OPERATIONS),
    Attack("chained comparison of nested lists", "0 < [[0] * 1000000] * 8000 < [[1] * 1000000] * 8000",
           OPERATIONS),
    Attack("comparison of nested dicts",
           "[{'v': [0] * 1000000}] * 8000 == [{'v': [0] * 1000000}] * 8000", OPERATIONS),
    # the built-ins that compare or hash items pay for what the items hold (each took 8-90 s)
    Attack("sorting nested lists", "sorted([[0] * 1000000, [0] * 1000000] * 4000)", OPERATIONS),
    Attack("max of nested lists from a generator", "max(x for x in [[0] * 1000000, [0] * 1000000] * 4000)",
           OPERATIONS),
    Attack("list.count of a nested list", "([[0] * 1000000] * 4000).count([0] * 1000000)", OPERATIONS),
    Attack("sort keys that are big lists",
           "(lambda a, b: sorted(range(8000), key=lambda i: a if i % 2 else b))([0] * 1000000, [0] * 1000000)",
           OPERATIONS),
    Attack("set of a repeated big tuple", "len(set([tuple(range(1000000))] * 8000))", OPERATIONS),
    Attack("match patterns copying a big list",
           "x = [0] * 1000000\nfor _ in range(100000):\n    match x:\n        case [first, *rest]: pass\nx = rest = 0",
           OPERATIONS, statement=True),
    Attack("big tuple as a dict key, again and again",
           "(lambda t: len({t: 1 for _ in range(8000)}))(tuple(range(1000000)))", OPERATIONS),
]

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
    id="budget_defs" targetNamespace="urn:test">
  <bpmn:process id="budget" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{first}" />
    {body}
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def script_diagram(attack: Attack) -> tuple[str, str, str]:
    code = attack.code if attack.statement else f"result = {attack.code}"
    body = (f'<bpmn:scriptTask id="runaway"><bpmn:script>{escape(code)}</bpmn:script></bpmn:scriptTask>'
            '<bpmn:sequenceFlow id="f2" sourceRef="runaway" targetRef="end" />')
    return TEMPLATE.format(first="runaway", body=body), "runaway", "script of task 'runaway'"


def condition_diagram(attack: Attack) -> tuple[str, str, str]:
    body = ('<bpmn:exclusiveGateway id="decide" default="f_else" />'
            '<bpmn:sequenceFlow id="f_heavy" sourceRef="decide" targetRef="end"><bpmn:conditionExpression '
            f'xsi:type="bpmn:tFormalExpression">{escape(attack.code)}</bpmn:conditionExpression>'
            '</bpmn:sequenceFlow><bpmn:sequenceFlow id="f_else" sourceRef="decide" targetRef="end" />')
    return TEMPLATE.format(first="decide", body=body), "decide", "condition at gateway 'decide'"


def priority_diagram(attack: Attack) -> tuple[str, str, str]:
    body = ('<bpmn:userTask id="heavy_task"><bpmn:extensionElements>'
            f'<zeebe:priorityDefinition priority={quoteattr("=" + attack.code)} />'
            '</bpmn:extensionElements></bpmn:userTask>'
            '<bpmn:sequenceFlow id="f2" sourceRef="heavy_task" targetRef="end" />')
    return TEMPLATE.format(first="heavy_task", body=body), "heavy_task", "ScriptBudgetExceeded: expression"


def mapping_diagram(attack: Attack) -> tuple[str, str, str]:
    body = ('<bpmn:serviceTask id="heavy_input"><bpmn:extensionElements>'
            '<zeebe:taskDefinition type="mom.log" /><zeebe:ioMapping>'
            f'<zeebe:input source={quoteattr("=" + attack.code)} target="message" />'
            '</zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>'
            '<bpmn:sequenceFlow id="f2" sourceRef="heavy_input" targetRef="end" />')
    return TEMPLATE.format(first="heavy_input", body=body), "heavy_input", "ScriptBudgetExceeded: expression"


PLACES = {"script": script_diagram, "condition": condition_diagram, "priority": priority_diagram,
          "mapping": mapping_diagram}
CASES = [
    pytest.param(place, attack, id=f"{place}: {attack.name}")
    for attack in ATTACKS for place in PLACES if place == "script" or not attack.statement
]


def bundle_of(xml: str) -> SpecBundle:
    root = parse_diagram(xml.encode(), "budget.bpmn")
    normalize_expressions(root)
    parser = PlantBpmnParser()
    parser.add_bpmn_xml(root, filename="budget.bpmn")
    return SpecBundle(process_id="budget", spec=parser.get_spec("budget"),
                      subprocess_specs=parser.get_subprocess_specs("budget"), messages={})


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("place", "attack"), CASES)
def test_the_engine_refuses_it_fast_with_an_incident_naming_element_and_limit(place: str, attack: Attack) -> None:
    xml, element, where = PLACES[place](attack)
    run = ProcessRun.start(bundle_of(xml), {})
    with pytest.raises(EngineIncident) as incident:
        run.advance()
        run.pending_user_tasks()  # the priority is evaluated when the task is shown
        run.ready_service_calls()  # the input mapping when the activity is about to start
    assert incident.value.element_id == element, incident.value
    message = incident.value.message
    assert where in message, message
    assert f"({attack.limit}" in message or f", {attack.limit})" in message, message
    assert "end" not in run.completed


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("place", "attack"), CASES)
def test_lint_and_deploy_accept_it_without_running_it(place: str, attack: Attack) -> None:
    xml, _element, _where = PLACES[place](attack)
    compiled = compile_diagram(xml, "budget.bpmn", known_task_types())
    assert compiled.process_id == "budget"


@pytest.mark.timeout(60)
def test_lint_does_not_evaluate_a_runaway_timer_expression() -> None:
    xml = TEMPLATE.format(first="wait", body=(
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">'
        "'PT1S' if 9**9**9**9 else 'PT2S'</bpmn:timeDuration></bpmn:timerEventDefinition>"
        '</bpmn:intermediateCatchEvent><bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />'))
    assert not [p for p in lint_diagram(xml.encode(), "budget.bpmn", known_task_types()) if p.severity == "error"]
    run = ProcessRun.start(bundle_of(xml), {})  # at run time the timer expression is on the budget
    with pytest.raises(EngineIncident) as incident:
        run.advance()
    assert incident.value.element_id == "wait" and INTEGER in incident.value.message, incident.value


def test_ordinary_plant_scripts_stay_far_below_the_default_limits() -> None:
    source = (
        "lots = [{'lot': f'L{i:05d}', 'qty': i % 9 + 1, 'grade': 'AB'[i % 2]} for i in range(5000)]\n"
        "by_grade = {}\n"
        "for lot in lots:\n"
        "    by_grade.setdefault(lot['grade'], []).append(lot['lot'])\n"
        "total = sum(lot['qty'] for lot in lots)\n"
        "biggest = sorted(lots, key=lambda lot: -lot['qty'])[:3]\n"
        "label = ', '.join(by_grade['A'][:3]) + f' ... {len(lots)} lots, {total} pieces'\n"
        "scrap_rate = round(17 / total, 4)\n"
        "first = [n for n, _ in zip(range(10**12), 'abc')]\n"  # lazy built-ins over huge ranges: fine
        "for n, lot in enumerate(lots):\n"
        "    if n == 3:\n"
        "        break\n"
        "del lots, lot, n\n"
    )
    budget = Budget(ScriptLimits())
    data: dict[str, object] = {**budget.hooks(), "__builtins__": RestrictedEnvironment().globals["__builtins__"]}
    exec(compile(instrument(check_source(source, "exec")), "<diagram>", "exec"), data)
    total = sum(i % 9 + 1 for i in range(5000))
    assert data["total"] == total
    assert data["label"] == f"L00000, L00002, L00004 ... 5000 lots, {total} pieces"
    # ~94,000 operations for 5,000 lots: half the default budget is left (heavier data work belongs in a service task)
    assert budget.used < ScriptLimits().operations // 2, budget.used
    data = {}
    RestrictedEnvironment().execute(source, data)  # and through the environment, with the configured limits
    assert data["scrap_rate"] == round(17 / total, 4)
    assert data["first"] == [0, 1, 2]
    assert sorted(data) == ["biggest", "by_grade", "first", "label", "scrap_rate", "total"]


def test_operations_are_counted_exactly_so_a_replay_fails_the_same_way() -> None:
    source = "total = 0\nfor i in range(2500):\n    total += i * 2\nlabel = str(total)"
    code = compile(instrument(check_source(source, "exec")), "<diagram>", "exec")

    def used(limit: int) -> int:
        budget = Budget(ScriptLimits(operations=limit), "script of task 'calc'")
        exec(code, {**budget.hooks(), "__builtins__": {"str": str, "range": range}})
        return budget.used

    exact = used(10**6)
    assert used(exact) == exact  # the same count every time, and it fits a budget of exactly that
    with pytest.raises(ScriptBudgetExceeded, match=f"script of task 'calc' exceeded {exact - 1:,} operations"):
        used(exact - 1)


def test_limits_come_from_mom_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOM_SCRIPT_MAX_OPERATIONS", "2000")
    monkeypatch.setenv("MOM_SCRIPT_MAX_SIZE", "5000")
    configured_limits.cache_clear()
    try:
        assert configured_limits() == ScriptLimits(operations=2000, size=5000, instances=1000)  # J.8: measured
        with pytest.raises(ScriptBudgetExceeded, match="exceeded 2,000 operations"):
            RestrictedEnvironment().execute("for i in range(3000):\n    pass", {})
        too_big = r"a repeated str of 6,000 .*\(limit 5,000, MOM_SCRIPT_MAX_SIZE\)"
        with pytest.raises(ScriptBudgetExceeded, match=too_big):
            RestrictedEnvironment().evaluate("'ab' * 3000", {})
    finally:
        configured_limits.cache_clear()
    assert load_settings().script_max_operations == 2000


# -- on the real Temporal dev server --------------------------------------------------------------
RUNAWAYS = {  # attack (a variable of tests/diagrams/runaway_script.bpmn) -> element and limit
    "loop": ("calc", OPERATIONS), "power": ("calc", INTEGER), "text": ("calc", SIZE),
    "recursion": ("calc", DEPTH), "format": ("calc", SIZE), "condition": ("route", OPERATIONS),
    "mapping": ("report", INTEGER),
}


@pytest.mark.timeout(600)
async def test_runaway_instances_become_incidents_and_a_normal_one_completes_on_the_same_worker(
    temporal_client: Client, task_queue: str, data_dir: Path
) -> None:
    assert (DIAGRAMS / "runaway_script.bpmn").exists()
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        runaway = {attack: await start(temporal_client, data_dir, "runaway_script.bpmn", task_queue,
                                       {"attack": attack}) for attack in RUNAWAYS}
        normal = await start(temporal_client, data_dir, "runaway_script.bpmn", task_queue, {"attack": "none"})
        states = await asyncio.gather(*(
            wait_for_state(temporal_client, wid, lambda s: s["status"] == "incident", timeout=180)
            for wid in runaway.values()))
        result = await asyncio.wait_for(instances.wait_result(temporal_client, normal), timeout=180)
    for (attack, (element, limit)), state in zip(RUNAWAYS.items(), states, strict=True):
        incident = state["incident"]
        assert incident["element_id"] == element, (attack, incident)
        assert f"'{element}'" in incident["message"] or f"[{element}]" in incident["message"] or (
            element == "report" and "ScriptBudgetExceeded" in incident["message"]), (attack, incident)
        assert limit in incident["message"], (attack, incident)
    assert result.status == "completed"
    assert result.completed == ["start", "calc", "route", "report", "end"]
    assert result.variables["total"] == sum(i % 7 + 1 for i in range(3000))
    # the budget stopped each script inside its workflow task: no task failed, timed out or was retried
    for wid in [*runaway.values(), normal]:
        history = await temporal_client.get_workflow_handle(wid).fetch_history()
        troubles = [e.event_type for e in history.events if e.event_type in (
            EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)]
        assert not troubles, (wid, troubles)


MULTI_INSTANCE = TEMPLATE.format(first="inspect", body=(
    '<bpmn:scriptTask id="inspect"><bpmn:multiInstanceLoopCharacteristics>'
    '<bpmn:loopCardinality>{cardinality}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'
    '<bpmn:script>seen = True</bpmn:script></bpmn:scriptTask>'
    '<bpmn:sequenceFlow id="f2" sourceRef="inspect" targetRef="end" />'))


@pytest.mark.timeout(60)
def test_a_parallel_multi_instance_of_a_billion_instances_is_an_incident_naming_the_element() -> None:
    run = ProcessRun.start(bundle_of(MULTI_INSTANCE.replace("{cardinality}", "10**9")), {})
    with pytest.raises(EngineIncident) as incident:
        run.advance()
    assert incident.value.element_id == "inspect", incident.value
    assert "1,000,000,000 instances" in incident.value.message and "MOM_MAX_PARALLEL_INSTANCES" in \
        incident.value.message, incident.value.message


def test_a_parallel_multi_instance_within_the_limit_runs_every_instance() -> None:
    run = ProcessRun.start(bundle_of(MULTI_INSTANCE.replace("{cardinality}", "250")), {})
    run.advance()
    assert run.is_completed
    assert run.completed.count("inspect") == 251  # the 250 instances and the multi-instance itself
