"""How large a diagram this engine runs, and how much engine work one workflow task does.

Temporal fails a workflow task that holds its thread for 2 s without yielding (the deadlock
detector), and retries it every 10 s for ever: an instance stays "running" without an incident.
SpiffWorkflow's work per engine step grows faster than the diagram: after each task it completes it
walks the task tree (every predicted task of a chain is in it), and every join still to come walks it
again for its inputs, so n parallel branches cost about n^3 tree visits. Measured on this 2-core
machine at load 10-12 (README, "Guarantees"): 300 script tasks in a row took 1.6 s in one engine step,
300 parallel branches 5.8 s, a parallel multi-instance of 1,000 9 s, one of 3,000 92 s.

Two gates keep every workflow task short:

- **charged by work** (:meth:`bpmn.engine.ProcessRun.advance`): each engine task completed is charged
  the size of the task tree times (1 + tasks waiting or joins to come); over
  ``MOM_ENGINE_STEP_WORK`` units the step stops between two tasks and the workflow yields (a 1 ms
  durable timer) before going on. Counted, not timed: a replay stops at the same task.
- **refused at lint and deploy** what would still be too slow or cannot be read: more than
  ``MOM_MAX_DIAGRAM_ELEMENTS`` elements (flow nodes and sequence flows), a gateway with more than
  ``MOM_MAX_PARALLEL_BRANCHES`` branches, a multi-instance whose literal cardinality is over
  ``MOM_MAX_PARALLEL_INSTANCES``, and a chain too long for SpiffWorkflow's recursive parser (the
  error names the diagram and the element). At run time a parallel multi-instance over
  ``MOM_MAX_PARALLEL_INSTANCES`` is an incident naming the element.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from mom.settings import load_settings


@dataclass(frozen=True)
class DiagramLimits:
    elements: int = 2_000
    branches: int = 200
    instances: int = 1_000
    step_work: int = 50_000


@lru_cache(maxsize=1)
def configured_diagram_limits() -> DiagramLimits:
    """The limits of this process, read once from the settings (the same on every worker)."""
    settings = load_settings()
    return DiagramLimits(elements=settings.max_diagram_elements, branches=settings.max_parallel_branches,
                         instances=settings.max_parallel_instances, step_work=settings.engine_step_work)
