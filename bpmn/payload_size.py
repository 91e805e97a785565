"""How much room process data takes in Temporal, and the limits it is kept under.

Temporal refuses any payload over 2 MB (``limit.blobSize.error``; it warns from 512 KB) and a
workflow task's completion over 4 MB (gRPC). A BpmnProcess carries its variables in many payloads:
the start input, each activity's input and result, each update (a task completion), the ``state``
query's answer, the workflow result, and at continue-as-new the whole serialized engine state (every
task's copy of the data). A value over the limit there does not fail one request: the workflow task
fails again every 10 s for ever (``PayloadsTooLarge``), without an incident.

So sizes are kept under the limit at two gates:

- at the API, every request that carries process data (start, task completion, message, retry,
  test run) is measured as compact JSON and refused over ``MOM_MAX_VARIABLES_BYTES`` (256 KB by
  default: several requests still fit one 2 MB payload), naming the field (:mod:`api.payload_limits`);
- inside the workflow, what the process itself produced (a script building megabytes, an activity's
  large result, data accumulated by many completions) is measured before it leaves in a payload;
  over ``MOM_MAX_PAYLOAD_BYTES`` (1.5 MB, under Temporal's 2 MB) it becomes an incident naming the
  element, and the ``state`` query answers with the large values replaced by a marker.

The measure is the length of the UTF-8 compact JSON, what Temporal's JSON converter sends (give or
take a few bytes of framing).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from mom.settings import load_settings

TEMPORAL_PAYLOAD_LIMIT = 2 * 1024 * 1024
DEFAULT_MAX_VARIABLES_BYTES = 256 * 1024
DEFAULT_MAX_PAYLOAD_BYTES = 1_536 * 1024  # 1.5 MB: room under the 2 MB limit for the payload's framing


PAYLOAD_SETTING = "MOM_MAX_PAYLOAD_BYTES"


@lru_cache(maxsize=1)
def configured_payload_limit() -> int:
    """``MOM_MAX_PAYLOAD_BYTES`` of this process (the same on every worker: replays take the same path)."""
    return int(load_settings().max_payload_bytes)


def json_bytes(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON (objects that are not JSON count as their ``str``)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"))


class TooLarge(ValueError):
    """``what`` takes ``size`` bytes as JSON, over ``limit`` (named by ``setting``)."""

    def __init__(self, what: str, size: int, limit: int, setting: str) -> None:
        self.what, self.size, self.limit, self.setting = what, size, limit, setting
        super().__init__(f"{what}: {size:,} bytes as JSON, more than {setting} ({limit:,} bytes)")


def check_size(value: Any, what: str, limit: int, setting: str) -> int:
    """The size of ``value``; raises :class:`TooLarge` when it is over ``limit``."""
    size = json_bytes(value)
    if size > limit:
        raise TooLarge(what, size, limit, setting)
    return size


def largest_values(data: dict[str, Any]) -> list[tuple[str, int]]:
    """The variables of ``data`` by size, largest first (to name them in an incident)."""
    return sorted(((name, json_bytes(value)) for name, value in data.items()), key=lambda p: (-p[1], p[0]))


def shrunk(data: dict[str, Any], limit: int) -> dict[str, Any]:
    """``data`` with its largest values replaced by a marker until the rest fits ``limit``: what a
    query may answer about an instance whose data is too large to send whole."""
    if json_bytes(data) <= limit:
        return data
    result = dict(data)
    for name, size in largest_values(data):
        result[name] = {"too_large": True, "bytes": size}
        if json_bytes(result) <= limit:
            break
    return result
