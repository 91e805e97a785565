"""The ``mom`` command line: one sub-command module per area, composed here.

Each module in this package exposes ``register(subparsers)`` which adds its commands; a command's
handler is stored as ``func`` on its parser and receives the parsed namespace, returning an exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

Handler = Callable[[argparse.Namespace], int]


def _command_modules() -> list[ModuleType]:
    from mom.cli import audit, demo, engine, feel, migrate, monitor, oee, opcua, plant, schedule, stack, users

    return [stack, engine, migrate, users, audit, schedule, opcua, plant, monitor, oee, demo, feel]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mom", description="Smart MOM: plant processes as BPMN on durable Temporal workflows"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "func", None)
    if handler is None:
        parser.print_help()
        return 2
    return handler(args)


def _temporal_logs_to_stderr() -> None:
    """The Temporal client's native core logs to standard output by default, which would break the
    output of ``--json`` commands (a connect retry warning before the JSON): forward it to Python
    logging (standard error) instead."""
    import logging

    from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

    logging_config = LoggingConfig(filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                                   forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")))
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=logging_config)), error_if_already_set=False)


def run() -> None:
    """Entry point of the ``mom`` command (and ``python -m mom.cli``)."""
    _temporal_logs_to_stderr()
    code = main()
    if "temporalio.bridge.temporal_sdk_bridge" in sys.modules:
        # The Temporal client's native runtime threads can abort the interpreter while it finalizes
        # ("PyGILState_Release ... must be current"), turning a finished command into exit -6.
        # The command's work is done and its output written: flush and leave without finalizing.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
