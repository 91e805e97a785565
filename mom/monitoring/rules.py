"""What a machine report means for the processes: pure rules, no I/O.

An :class:`Observation` is one thing a work unit reported (a PackML state, a counter, an alarm, a
job status). :class:`MonitorRules` turns it into

- correlated :class:`Message` s for running instances: ``job_completed`` / ``job_aborted`` keyed by
  the job id when the machine reports the job's end, ``machine_alarm`` keyed by the job id of the
  job the machine holds when an alarm is raised;
- at most one :class:`ExceptionStart`: the exception process configured for the alarm code
  (``JAM -> machine_breakdown``), with the work unit, alarm and job as variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mom.domain import MachineEventKind

JOB_COMPLETED = "job_completed"
JOB_ABORTED = "job_aborted"
MACHINE_ALARM = "machine_alarm"
UNKNOWN_STATE = "UNKNOWN"
JOB_STATUS = "JobStatus"


@dataclass(frozen=True)
class Observation:
    """One report of work unit ``work_unit`` (its equipment path), at the machine's timestamp."""

    work_unit_id: int
    work_unit: str
    kind: MachineEventKind
    name: str
    at: datetime
    value: dict[str, Any] = field(default_factory=dict)
    severity: int | None = None


@dataclass(frozen=True)
class Message:
    name: str
    correlation_key: str
    variables: dict[str, Any]


@dataclass(frozen=True)
class ExceptionStart:
    process_id: str
    business_key: str
    variables: dict[str, Any]


def parse_rule(text: str) -> tuple[str, str]:
    """``ALARM_CODE=process_id`` (as ``mom monitor --rule`` takes it)."""
    code, sep, process_id = text.partition("=")
    if not sep or not code.strip() or not process_id.strip():
        raise ValueError(f"rule {text!r}: expected ALARM_CODE=PROCESS_ID, e.g. JAM=machine_breakdown")
    return code.strip(), process_id.strip()


@dataclass(frozen=True)
class MonitorRules:
    exception_processes: Mapping[str, str] = field(default_factory=dict)
    """alarm code -> id of the process to start when a machine raises it"""

    def messages(self, obs: Observation) -> list[Message]:
        if obs.kind is MachineEventKind.COUNTER and obs.name == JOB_STATUS:
            name = {"Ended": JOB_COMPLETED, "Aborted": JOB_ABORTED}.get(str(obs.value.get("job_status")))
            job_id = str(obs.value.get("job_id") or "")
            if name and job_id:
                return [Message(name, job_id, {**obs.value, "work_unit": obs.work_unit})]
        if obs.kind is MachineEventKind.ALARM and obs.value.get("active") and obs.value.get("job_id"):
            job_id = str(obs.value["job_id"])
            return [Message(MACHINE_ALARM, job_id, self._alarm_variables(obs))]
        return []

    def exception(self, obs: Observation) -> ExceptionStart | None:
        if obs.kind is not MachineEventKind.ALARM or not obs.value.get("active"):
            return None
        process_id = self.exception_processes.get(obs.name)
        if process_id is None:
            return None
        unit = obs.work_unit.rsplit(".", 1)[-1]
        key = f"{unit}-{obs.name}-{obs.at.strftime('%Y%m%dT%H%M%S%f')}"
        return ExceptionStart(process_id, key, self._alarm_variables(obs))

    @staticmethod
    def _alarm_variables(obs: Observation) -> dict[str, Any]:
        return {
            "work_unit": obs.work_unit,
            "work_unit_id": obs.work_unit_id,
            "alarm_code": obs.name,
            "severity": obs.severity,
            "job_id": obs.value.get("job_id") or None,
            "machine_state": obs.value.get("machine_state"),
            "message": obs.value.get("message"),
            "raised_at": obs.at.isoformat(),
        }
