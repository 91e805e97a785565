"""SpiffWorkflow parser subclass that understands zeebe and spiffworkflow task extensions.

Service tasks become :class:`PlantServiceTask`: a manual task whose work is done by a Temporal
activity chosen by its task type; user tasks keep SpiffWorkflow's class. Both carry their
:class:`~bpmn.extensions.TaskExtensions` under ``spec.extensions["mom"]``.
"""

from __future__ import annotations

import copy
from collections.abc import Sized
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.event_parsers import (
    CANCEL_EVENT_XPATH,
    ERROR_EVENT_XPATH,
    ESCALATION_EVENT_XPATH,
    MESSAGE_EVENT_XPATH,
    SIGNAL_EVENT_XPATH,
    TERMINATION_EVENT_XPATH,
)
from SpiffWorkflow.bpmn.parser.task_parsers import SubprocessParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    SequentialMultiInstanceTask as SequentialMultiInstanceMixin,
)
from SpiffWorkflow.spiff.parser.event_parsers import SpiffEndEventParser, SpiffEventDefinitionParser
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, SpiffProcessParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser, SubWorkflowParser
from SpiffWorkflow.spiff.specs.defaults import (
    BusinessRuleTask,
    EventSubprocess,
    ManualTask,
    NoneTask,
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
    SubWorkflowTask,
    UserTask,
)
from SpiffWorkflow.spiff.specs.defaults import ServiceTask as SpiffServiceTask
from SpiffWorkflow.util.task import TaskState

from bpmn import compensation
from bpmn.clock import current_time
from bpmn.extensions import (
    MOM_KEY,
    TaskExtensions,
    embedded_forms,
    read_called_decision,
    read_called_element,
    read_task_extensions,
)
from bpmn.script_budget import configured_limits

CALL_KEY = "mom_call"  # extensions of a call activity: called process id, propagate all child variables
DECISION_KEY = "mom_decision"  # extensions of a business rule task: decision id, result variable


class PlantServiceTask(SpiffServiceTask):  # type: ignore[misc]
    """A service task done by a Temporal activity; the engine stores the result before ``run``."""

    def __init__(self, wf_spec: Any, name: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, name, **kwargs)
        self.manual = True

    def _execute(self, task: Any) -> bool:
        return True


class PassThroughTask(NoneTask):  # type: ignore[misc]
    """A plain task (``bpmn:task``): Camunda 8 completes it at once, so does this engine. SpiffWorkflow
    marks it manual (READY until someone completes it), which made such diagrams wait forever.
    Specs deployed before keep SpiffWorkflow's class, so their running instances replay as recorded."""

    def __init__(self, wf_spec: Any, name: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, name, **kwargs)
        self.manual = False


class PassThroughManualTask(ManualTask):  # type: ignore[misc]
    """A manual task: work done outside any system; Camunda 8 passes through it (see PassThroughTask)."""

    def __init__(self, wf_spec: Any, name: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, name, **kwargs)
        self.manual = False


class PlantCallActivity(SpiffServiceTask):  # type: ignore[misc]
    """A call activity run as a Temporal child workflow (a BpmnProcess of the called process);
    the engine stores the child's variables before ``run``. ``operation_name`` is ``call:<process id>``."""

    def __init__(self, wf_spec: Any, name: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, name, **kwargs)
        self.manual = True

    def _execute(self, task: Any) -> bool:
        return True


def call_extensions(spec: Any) -> dict[str, Any]:
    return dict((getattr(spec, "extensions", None) or {}).get(CALL_KEY) or {})


class PlantBusinessRuleTask(BusinessRuleTask):  # type: ignore[misc]
    """A business rule task evaluating a DMN decision table (SpiffWorkflow's DMN engine, with the
    workflow's restricted script engine). With a zeebe ``resultVariable`` the decision result is
    stored in that variable (a single output as its value, several outputs as a dict, a COLLECT
    table as a list of those), as Zeebe does; without it the outputs join the task data."""

    def _run_hook(self, my_task: Any) -> bool:
        variable = ((getattr(self, "extensions", None) or {}).get(DECISION_KEY) or {}).get("result_variable")
        if not variable:
            return bool(super()._run_hook(my_task))
        try:
            engine = self.dmnEngine
            rules = engine.decide(my_task)
            outputs = [rule.output_as_dict(my_task) for rule in rules]
            values = [next(iter(o.values())) if len(o) == 1 else dict(o) for o in outputs]
            if engine.decision_table.hit_policy == "COLLECT":
                my_task.data[variable] = values
            else:
                my_task.data[variable] = values[0] if values else None
        except Exception as exc:
            from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

            if isinstance(exc, WorkflowTaskException):
                raise
            raise WorkflowTaskException(str(exc), task=my_task, exception=exc) from exc
        return True


def _drop_instance_items(spec: Any, parent: Any) -> None:
    """Without an output collection SpiffWorkflow merges an instance's whole data into the parent,
    the input element included, and the next sequential instance then fails ("input item already
    exists"). As in Zeebe, the input and output elements stay local to each instance."""
    if spec.data_output is None or spec.output_item is None:
        for item in (spec.input_item, spec.output_item):
            if item is not None:
                parent.data.pop(item.bpmn_id, None)


class LocalItemSequentialMultiInstanceTask(SequentialMultiInstanceTask):  # type: ignore[misc]
    """Sequential multi-instance whose input element stays local to each instance."""

    def merge_child(self, workflow: Any, child: Any) -> None:
        # SpiffWorkflow's sequential merge adds the next instance right after merging: drop the
        # instance's own items in between (the rest is its code, unchanged).
        super(SequentialMultiInstanceMixin, self).merge_child(workflow, child)
        my_task = child.parent
        _drop_instance_items(self, my_task)
        if self.children_complete(my_task) or self.check_completion_condition(my_task):
            my_task._set_state(TaskState.READY)
        else:
            self.add_next_child(my_task)


class OrderedParallelMultiInstanceTask(ParallelMultiInstanceTask):  # type: ignore[misc]
    """Parallel multi-instance whose output collection follows the input order (as in Zeebe),
    not the order in which the instances happened to finish; its input element stays local."""

    def create_children(self, my_task: Any) -> None:
        _check_instance_count(self, my_task)
        super().create_children(my_task)

    def merge_child(self, workflow: Any, child: Any) -> None:
        my_task = child.parent
        output: Any = self.data_output.get(my_task) if self.data_output is not None else None
        data_input = self.data_input.get(my_task) if self.data_input is not None else None
        before = len(output) if isinstance(output, list) else None
        super().merge_child(workflow, child)
        _drop_instance_items(self, my_task)
        index = child.internal_data.get("key_or_index")
        if before is None or output is data_input or not isinstance(index, int) or len(output) != before + 1:
            return
        order: list[int] = [*my_task.internal_data.get("output_order", []), index]
        my_task.internal_data["output_order"] = order
        if len(order) == len(output):
            output[:] = [item for _, item in sorted(zip(order, output, strict=True), key=lambda pair: pair[0])]
            my_task.internal_data["output_order"] = sorted(order)


def _check_instance_count(spec: Any, my_task: Any) -> None:
    """A parallel multi-instance starts all its instances in one engine step: a count no plant needs
    (a cardinality of 10**9, a collection of millions) would exhaust the worker. Refuse it, naming
    the element and the limit (``MOM_MAX_PARALLEL_INSTANCES``)."""
    limit = configured_limits().instances
    if spec.data_input is not None:
        items = spec.data_input.get(my_task)
        count = len(items) if isinstance(items, Sized) else None
    else:
        count = my_task.workflow.script_engine.evaluate(my_task, spec.cardinality)
    if isinstance(count, int) and count > limit:
        raise WorkflowTaskException(
            f"parallel multi-instance '{spec.bpmn_id}' would start {count:,} instances; the limit is {limit:,} "
            "(MOM_MAX_PARALLEL_INSTANCES; a sequential multi-instance or a service task handles more)", task=my_task)


def _ordered_multi_instance(spec: Any) -> Any:
    _connect_event_subprocesses(spec)
    for task_spec in spec.task_specs.values():
        if type(task_spec) is ParallelMultiInstanceTask:
            task_spec.__class__ = OrderedParallelMultiInstanceTask
        elif type(task_spec) is SequentialMultiInstanceTask:
            task_spec.__class__ = LocalItemSequentialMultiInstanceTask
    return spec


class PlantEventSubprocess(EventSubprocess):  # type: ignore[misc]
    """An event subprocess (``subProcess triggeredByEvent="true"``) as BPMN runs it.

    SpiffWorkflow 3.2 never builds its EventSubprocess from a diagram (it looks for a
    bpmn-namespaced ``triggeredByEvent`` attribute): each event subprocess became an embedded
    subprocess started with the process, so an error one ran at once, an interrupting timer one
    cancelled nothing and a message one never waited. Its own EventSubprocess would start timer
    ones at process start too, and leave message ones to collaboration triggers that nothing here
    waits on; its start event parser reads no error start events. Here the task of the event subprocess, a child
    of the scope's Start, is the listener: it waits (in the event manager, like a catching event)
    for the event of the subprocess's start event. When the event comes, an interrupting one
    cancels everything else in its scope; a non-interrupting one adds a new listener beside itself.
    Then it runs the subprocess, whose start event fires at once with the caught event. The engine
    cancels listeners that nothing triggered when the rest of their scope has ended.
    """

    def __init__(self, wf_spec: Any, bpmn_id: str, subworkflow_spec: Any, event_definition: Any = None,
                 interrupting: bool = True, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, subworkflow_spec, **kwargs)
        self.event_definition = event_definition
        self.interrupting = interrupting

    @staticmethod
    def is_listening(task: Any) -> bool:
        return isinstance(task.task_spec, PlantEventSubprocess) and not task.internal_data.get("triggered")

    def catches(self, my_task: Any, event: Any) -> bool:
        return bool(my_task.state == TaskState.WAITING and self.is_listening(my_task)
                    and self.event_definition is not None and self.event_definition.catches(my_task, event))

    def catch(self, my_task: Any, event: Any) -> None:
        self.event_definition.catch(my_task, event)

    def _update_hook(self, my_task: Any) -> Any:
        if my_task.has_state(TaskState.FINISHED_MASK):
            return None
        if not self.is_listening(my_task):
            return super()._update_hook(my_task)
        if my_task.state != TaskState.WAITING and my_task.parent is not None:
            my_task._inherit_data()  # a listener never becomes READY, where tasks inherit their data
        if self.event_definition is not None and self._has_fired(my_task):
            self._trigger(my_task)
            return super()._update_hook(my_task)
        my_task.workflow.top_workflow.event_manager.add_task(my_task)
        if my_task.state != TaskState.WAITING:
            my_task._set_state(TaskState.WAITING)
        return None

    def _has_fired(self, my_task: Any) -> bool:
        """A timer cycle fires once per round (until its rounds are used up); a condition fires when
        the engine saw it become true (:meth:`bpmn.engine.ProcessRun` evaluates it after each step);
        the other events as SpiffWorkflow's definitions say."""
        definition = self.event_definition
        if isinstance(definition, CycleTimerEventDefinition):
            rounds = my_task._get_internal_data("event_value")
            if isinstance(rounds, dict) and rounds.get("cycles") == 0:
                return False  # every round has run: it listens no more (closed with its scope)
            return bool(definition.cycle_complete(my_task))
        if isinstance(definition, ConditionalEventDefinition):
            return bool(my_task._get_internal_data("event_fired", False))
        return bool(definition.has_fired(my_task))

    def _listen_again(self, my_task: Any, rounds: Any) -> None:
        """After a non-interrupting trigger, a new listener waits for the next event: the next round
        of a timer cycle (none after the last), the condition becoming true again, the next message,
        signal or escalation. A duration or date timer fires once per scope."""
        definition = self.event_definition
        if isinstance(definition, CycleTimerEventDefinition):
            if not isinstance(rounds, dict) or rounds.get("cycles") == 0:
                return
        elif isinstance(definition, TimerEventDefinition):
            return
        listener = my_task.parent._add_child(self, TaskState.FUTURE)
        if isinstance(definition, CycleTimerEventDefinition):
            rounds = copy.deepcopy(rounds)
            now = current_time()
            if TimerEventDefinition.get_datetime(rounds["next"]) < now:
                # rounds missed while the instance could not run (a worker outage): one now, the
                # next ones at the interval from then (no burst, no recursion through due rounds)
                rounds["next"] = now.isoformat()
            listener._set_internal_data(event_value=rounds)
        elif isinstance(definition, ConditionalEventDefinition):
            listener._set_internal_data(condition_true=True)  # fires again only after it was false
        listener.task_spec._update(listener)

    def _on_cancel(self, my_task: Any) -> None:
        my_task.workflow.top_workflow.event_manager.remove_task(my_task)
        super()._on_cancel(my_task)

    def _trigger(self, my_task: Any) -> None:
        workflow = my_task.workflow
        workflow.top_workflow.event_manager.remove_task(my_task)
        caught = {k: v for k, v in my_task.internal_data.items()}
        rounds = caught.get("event_value")
        my_task.internal_data.clear()
        my_task.internal_data["triggered"] = True
        my_task.internal_data["caught"] = caught
        if self.interrupting:
            ancestors = set()
            node = my_task.parent
            while node is not None:
                ancestors.add(node.id)
                node = node.parent
            for task in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
                if (task is my_task or task.id in ancestors or task.workflow is not workflow
                        or task.is_descendant_of(my_task)):
                    continue
                if task.state == TaskState.READY and isinstance(task.task_spec, ThrowingEvent):
                    continue  # the end event throwing the error this catches: it is completing
                task.cancel()
        else:
            self._listen_again(my_task, rounds)

    def copy_data(self, my_task: Any, subworkflow: Any) -> None:
        # The scope's data now (not at its start), with the payload of the event (message variables,
        # the data of the error's thrower).
        workflow = my_task.workflow
        latest = max((t for t in workflow.get_tasks(state=TaskState.COMPLETED)
                      if t.workflow is workflow and t is not my_task and not self.is_listening(t)),
                     key=lambda t: t.last_state_change, default=None)
        if latest is not None:
            my_task.data.update(copy.deepcopy(latest.data))
        caught = my_task.internal_data.get("caught") or {}
        if self.event_definition is not None and self.event_definition.name in caught:
            payload = caught[self.event_definition.name]
            if isinstance(payload, dict):
                my_task.data.update(copy.deepcopy(payload))
        super().copy_data(my_task, subworkflow)

    def start_workflow(self, my_task: Any) -> None:
        super().start_workflow(my_task)
        subworkflow = my_task.workflow.top_workflow.subprocesses[my_task.id]
        caught = my_task.internal_data.get("caught") or {}
        for task in subworkflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
            if task.task_spec in subworkflow.spec.bpmn_start_events:
                subworkflow.top_workflow.event_manager.remove_task(task)
                task.internal_data.update(caught)
                task._set_internal_data(event_fired=True)
                if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition) and not task.children:
                    for output in task.task_spec.outputs:  # a cycle start event adds its children per round
                        child = task._add_child(output, TaskState.FUTURE)
                        child.task_spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)
                task.task_spec._update(task)


class PlantSubWorkflowParser(SubWorkflowParser):  # type: ignore[misc]

    def create_task(self) -> Any:
        # SpiffWorkflow looks for a bpmn-namespaced triggeredByEvent attribute, which diagrams do not
        # have: it never made event subprocesses, only embedded subprocesses started with the process.
        if (self.node.get("triggeredByEvent") or "").lower() != "true":
            return super().create_task()
        extensions = self.parse_extensions()
        task = PlantEventSubprocess(
            self.spec, self.bpmn_id, subworkflow_spec=SubprocessParser.get_subprocess_spec(self),
            prescript=extensions.get("preScript"), postscript=extensions.get("postScript"), **self.bpmn_attributes,
        )
        sub_spec = self.process_parser.parser.process_parsers[task.spec].get_spec()
        starts = list(sub_spec.bpmn_start_events)
        if len(starts) != 1:
            raise ValidationException("an event subprocess needs exactly one start event",
                                      node=self.node, file_name=self.filename)
        task.event_definition = starts[0].event_definition
        start_node = self.node.find(full_tag("startEvent"))
        error = start_node.find(full_tag("errorEventDefinition")) if start_node is not None else None
        if error is not None:  # SpiffWorkflow's start event parser reads no error start events
            task.event_definition = SpiffEventDefinitionParser.parse_error_event(self, error)
        escalation = start_node.find(full_tag("escalationEventDefinition")) if start_node is not None else None
        if escalation is not None:  # nor escalation start events
            task.event_definition = SpiffEventDefinitionParser.parse_escalation_event(self, escalation)
        flag = start_node.get("isInterrupting", "true") if start_node is not None else "true"
        task.interrupting = flag.lower() != "false"
        return task


def _connect_event_subprocesses(spec: Any) -> None:
    """Every event subprocess listens from the start of its scope (see PlantEventSubprocess)."""
    for task_spec in list(spec.task_specs.values()):
        if not isinstance(task_spec, PlantEventSubprocess):
            continue
        if task_spec.name in spec.start.trigger_specs:
            spec.start.trigger_specs.remove(task_spec.name)
        if task_spec not in spec.start.outputs:
            spec.start.connect(task_spec)
        if spec.end not in task_spec.outputs:
            task_spec.connect(spec.end)


def task_extensions(spec: Any) -> TaskExtensions:
    raw = (getattr(spec, "extensions", None) or {}).get(MOM_KEY)
    return TaskExtensions.from_dict(raw) if raw else TaskExtensions()


class _MomTaskParser(SpiffTaskParser):  # type: ignore[misc]
    def mom_extensions(self) -> TaskExtensions:
        forms: dict[str, dict[str, Any]] = dict(getattr(self.process_parser.parser, "forms", {}))
        # the forms of the enclosing process, also for a task in an embedded subprocess (whose parser's
        # node is the subprocess): Camunda keeps every form of a process at the process
        node = self.process_parser.node
        process = next((n for n in (node, *node.iterancestors()) if n.tag == full_tag("process")), node)
        forms.update(embedded_forms(process))
        ext = read_task_extensions(self.node, forms)
        if ext.candidate_groups is None and ext.assignee is None and self.lane:
            ext.candidate_groups = repr(self.lane)
        return ext

    def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
        extensions: dict[str, Any] = dict(super().parse_extensions(node))
        if node is None or node is self.node:
            extensions[MOM_KEY] = self.mom_extensions().to_dict()
        return extensions


class PlantServiceTaskParser(_MomTaskParser):
    def create_task(self) -> Any:
        ext = self.mom_extensions()
        if not ext.task_type:
            raise ValidationException(
                "service task has no task type: set zeebe:taskDefinition type= or "
                "spiffworkflow:serviceTaskOperator id=",
                node=self.node,
                file_name=self.filename,
            )
        spiff = super().parse_extensions()
        return self.spec_class(
            self.spec,
            self.bpmn_id,
            operation_name=ext.task_type,
            operation_params={},
            result_variable=ext.result_variable,
            retries=ext.retries,
            prescript=spiff.get("preScript"),
            postscript=spiff.get("postScript"),
            **self.bpmn_attributes,
        )


class PlantUserTaskParser(_MomTaskParser):
    def create_task(self) -> Any:
        spiff = super().parse_extensions()
        return self.spec_class(
            self.spec,
            self.bpmn_id,
            variable=spiff.get("variableName"),
            prescript=spiff.get("preScript"),
            postscript=spiff.get("postScript"),
            **self.bpmn_attributes,
        )


class PlantCallActivityParser(_MomTaskParser):
    def create_task(self) -> Any:
        called = read_called_element(self.node)
        if not called.get("process_id"):
            raise ValidationException(
                "call activity names no process: set zeebe:calledElement processId= or calledElement=",
                node=self.node, file_name=self.filename,
            )
        spiff = super().parse_extensions()
        task = self.spec_class(
            self.spec,
            self.bpmn_id,
            operation_name=f"call:{called['process_id']}",
            operation_params={},
            result_variable=None,
            prescript=spiff.get("preScript"),
            postscript=spiff.get("postScript"),
            **self.bpmn_attributes,
        )
        return task

    def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
        extensions = super().parse_extensions(node)
        if node is None or node is self.node:
            extensions[CALL_KEY] = read_called_element(self.node)
        return extensions


class PlantBusinessRuleTaskParser(_MomTaskParser):
    @staticmethod
    def get_decision_ref(node: etree._Element) -> str | None:
        return read_called_decision(node).get("decision_id")

    def create_task(self) -> Any:
        decision_ref = self.get_decision_ref(self.node)
        if not decision_ref:
            raise ValidationException(
                "business rule task names no decision: set zeebe:calledDecision decisionId= or "
                "spiffworkflow:calledDecisionId", node=self.node, file_name=self.filename,
            )
        spiff = super().parse_extensions()
        return self.spec_class(
            self.spec,
            self.bpmn_id,
            dmnEngine=self.process_parser.parser.get_engine(decision_ref, self.node),
            prescript=spiff.get("preScript"),
            postscript=spiff.get("postScript"),
            **self.bpmn_attributes,
        )

    def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
        extensions = super().parse_extensions(node)
        if node is None or node is self.node:
            extensions[DECISION_KEY] = read_called_decision(self.node)
        return extensions


class PlantEndEventParser(SpiffEndEventParser):  # type: ignore[misc]
    """SpiffWorkflow's end event parser forgets signal end events (they would end silently)."""

    def create_task(self) -> Any:
        event_definition = self.get_event_definition([
            MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, CANCEL_EVENT_XPATH, ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH,
            TERMINATION_EVENT_XPATH,
        ])
        task = self._create_task(event_definition)
        task.connect(self.spec.end)
        return task


class PlantProcessParser(SpiffProcessParser):  # type: ignore[misc]
    """Parses one process or embedded subprocess with BPMN compensation (see :mod:`bpmn.compensation`):
    compensation boundary events are no catching events, their handlers are parsed without flow."""

    def _index_process_nodes(self) -> None:
        super()._index_process_nodes()
        for attached, events in list(self.boundary_events_by_attached.items()):
            kept = compensation.without_compensation_boundaries(events)
            if kept:
                self.boundary_events_by_attached[attached] = kept
            else:
                del self.boundary_events_by_attached[attached]

    def add_tasks(self) -> None:
        super().add_tasks()
        compensation.prepare_spec(self)


class PlantBpmnParser(SpiffBpmnParser):  # type: ignore[misc]
    """SpiffBpmnParser with our service and user task parsers; ``forms`` are linked form files."""

    PROCESS_PARSER_CLASS = PlantProcessParser
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (PlantServiceTaskParser, PlantServiceTask),
        full_tag("userTask"): (PlantUserTaskParser, UserTask),
        full_tag("endEvent"): (PlantEndEventParser, EndEvent),
        full_tag("callActivity"): (PlantCallActivityParser, PlantCallActivity),
        full_tag("businessRuleTask"): (PlantBusinessRuleTaskParser, PlantBusinessRuleTask),
        full_tag("subProcess"): (PlantSubWorkflowParser, SubWorkflowTask),
        full_tag("task"): (SpiffTaskParser, PassThroughTask),
        full_tag("manualTask"): (SpiffTaskParser, PassThroughManualTask),
    }

    def __init__(self, forms: dict[str, dict[str, Any]] | None = None, decisions_required: bool = True) -> None:
        super().__init__()
        self.forms = forms or {}
        self.decisions_required = decisions_required

    def get_engine(self, decision_ref: str, node: Any) -> Any:
        if not self.decisions_required and decision_ref not in self.dmn_parsers:
            return None  # lint without the DMN files: the deploy checks the decision
        return super().get_engine(decision_ref, node)

    def get_spec(self, process_id: str, *args: Any, **kwargs: Any) -> Any:
        return _ordered_multi_instance(super().get_spec(process_id, *args, **kwargs))

    def get_subprocess_specs(self, name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        specs: dict[str, Any] = super().get_subprocess_specs(name, *args, **kwargs)
        for spec in specs.values():
            _ordered_multi_instance(spec)
        return specs
