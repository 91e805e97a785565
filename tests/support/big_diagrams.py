"""Generated diagrams of a given size: a parallel split of n script branches, a chain of n script
tasks, a parallel multi-instance of n (literal or from a variable)."""

from __future__ import annotations

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' id="generated" targetNamespace="http://bpmn.io/schema/bpmn">\n'
        '<bpmn:process id="{pid}" isExecutable="true">\n')
TAIL = "</bpmn:process>\n</bpmn:definitions>\n"


def _flow(flow_id: str, source: str, target: str) -> str:
    return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"/>\n'


def _script(task_id: str, loop: str = "") -> str:
    return (f'<bpmn:scriptTask id="{task_id}" scriptFormat="python">{loop}'
            "<bpmn:script>n = 1</bpmn:script></bpmn:scriptTask>\n")


def parallel(branches: int, process_id: str = "wide") -> str:
    parts = [HEAD.format(pid=process_id), '<bpmn:startEvent id="start"/>\n', _flow("f0", "start", "split"),
             '<bpmn:parallelGateway id="split"/>\n<bpmn:parallelGateway id="join"/>\n']
    for i in range(branches):
        parts += [_script(f"t{i}"), _flow(f"a{i}", "split", f"t{i}"), _flow(f"b{i}", f"t{i}", "join")]
    parts += [_flow("fe", "join", "end"), '<bpmn:endEvent id="end"/>\n', TAIL]
    return "".join(parts)


def chain(length: int, process_id: str = "chain") -> str:
    parts = [HEAD.format(pid=process_id), '<bpmn:startEvent id="start"/>\n', _flow("f0", "start", "t0")]
    for i in range(length):
        parts += [_script(f"t{i}"), _flow(f"f{i + 1}", f"t{i}", f"t{i + 1}" if i + 1 < length else "end")]
    parts += ['<bpmn:endEvent id="end"/>\n', TAIL]
    return "".join(parts)


def multi_instance(cardinality: int | str, process_id: str = "many") -> str:
    loop = ("<bpmn:multiInstanceLoopCharacteristics>"
            f"<bpmn:loopCardinality>{cardinality}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>")
    return "".join([HEAD.format(pid=process_id), '<bpmn:startEvent id="start"/>\n', _flow("f0", "start", "each"),
                    _script("each", loop), _flow("f1", "each", "end"), '<bpmn:endEvent id="end"/>\n', TAIL])
