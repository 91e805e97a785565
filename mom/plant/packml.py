"""The PackML machine state machine (ISA-TR88.00.02, OPC 30050 names and state codes).

Pure and synchronous: no OPC UA, no clock. The simulated machine drives it with commands
(``Start``, ``Hold``...) and with *state complete* when an acting state (one whose name ends in
``-ing``) has finished its work. Commands that the current state does not accept raise
:class:`InvalidTransition`, naming both.
"""

from __future__ import annotations

from enum import Enum


class PackMLState(Enum):
    """PackML states; the value is the PackML/OPC 30050 state code."""

    UNDEFINED = 0
    CLEARING = 1
    STOPPED = 2
    STARTING = 3
    IDLE = 4
    SUSPENDED = 5
    EXECUTE = 6
    STOPPING = 7
    ABORTING = 8
    ABORTED = 9
    HOLDING = 10
    HELD = 11
    UNHOLDING = 12
    SUSPENDING = 13
    UNSUSPENDING = 14
    RESETTING = 15
    COMPLETING = 16
    COMPLETE = 17

    @property
    def label(self) -> str:
        """The PackML display name, e.g. ``Execute``."""
        return self.name.capitalize()

    @classmethod
    def from_label(cls, label: str) -> PackMLState:
        try:
            return cls[label.upper()]
        except KeyError:
            known = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown PackML state {label!r}; known: {known}") from None


class PackMLCommand(Enum):
    RESET = "Reset"
    START = "Start"
    STOP = "Stop"
    HOLD = "Hold"
    UNHOLD = "Unhold"
    SUSPEND = "Suspend"
    UNSUSPEND = "Unsuspend"
    ABORT = "Abort"
    CLEAR = "Clear"


S = PackMLState
C = PackMLCommand

#: acting state -> the wait state it reaches on "state complete"
ACTING_STATES: dict[PackMLState, PackMLState] = {
    S.CLEARING: S.STOPPED,
    S.STOPPING: S.STOPPED,
    S.STARTING: S.EXECUTE,
    S.ABORTING: S.ABORTED,
    S.HOLDING: S.HELD,
    S.UNHOLDING: S.EXECUTE,
    S.SUSPENDING: S.SUSPENDED,
    S.UNSUSPENDING: S.EXECUTE,
    S.RESETTING: S.IDLE,
    S.COMPLETING: S.COMPLETE,
}

_NO_STOP = {S.STOPPED, S.STOPPING, S.ABORTING, S.ABORTED, S.CLEARING}
_NO_ABORT = {S.ABORTING, S.ABORTED}

#: (state, command) -> next state, besides Stop and Abort which are accepted almost everywhere
_TRANSITIONS: dict[tuple[PackMLState, PackMLCommand], PackMLState] = {
    (S.IDLE, C.START): S.STARTING,
    (S.STOPPED, C.RESET): S.RESETTING,
    (S.COMPLETE, C.RESET): S.RESETTING,
    (S.ABORTED, C.CLEAR): S.CLEARING,
    (S.EXECUTE, C.HOLD): S.HOLDING,
    (S.SUSPENDED, C.HOLD): S.HOLDING,
    (S.HELD, C.UNHOLD): S.UNHOLDING,
    (S.EXECUTE, C.SUSPEND): S.SUSPENDING,
    (S.SUSPENDED, C.UNSUSPEND): S.UNSUSPENDING,
}


class InvalidTransition(Exception):
    def __init__(self, state: PackMLState, command: PackMLCommand) -> None:
        accepted = ", ".join(c.value for c in accepted_commands(state)) or "none"
        super().__init__(
            f"PackML command {command.value} is not accepted in state {state.label} "
            f"(accepted there: {accepted})"
        )
        self.state = state
        self.command = command


def next_state(state: PackMLState, command: PackMLCommand) -> PackMLState:
    """The state a command leads to from ``state``; raises :class:`InvalidTransition`."""
    if command is C.ABORT and state not in _NO_ABORT:
        return S.ABORTING
    if command is C.STOP and state not in _NO_STOP:
        return S.STOPPING
    target = _TRANSITIONS.get((state, command))
    if target is None:
        raise InvalidTransition(state, command)
    return target


def accepted_commands(state: PackMLState) -> list[PackMLCommand]:
    accepted = [cmd for (from_state, cmd) in _TRANSITIONS if from_state is state]
    if state not in _NO_STOP:
        accepted.append(C.STOP)
    if state not in _NO_ABORT:
        accepted.append(C.ABORT)
    return accepted


def is_acting(state: PackMLState) -> bool:
    return state in ACTING_STATES


class PackMLStateMachine:
    """The current PackML state of one machine, changed only through commands and completions."""

    def __init__(self, initial: PackMLState = S.IDLE) -> None:
        self.state = initial

    def command(self, command: PackMLCommand) -> PackMLState:
        self.state = next_state(self.state, command)
        return self.state

    def state_complete(self) -> PackMLState:
        """Leave an acting state for its wait state (``Starting`` -> ``Execute``...)."""
        if self.state is S.EXECUTE:
            self.state = S.COMPLETING
        elif self.state in ACTING_STATES:
            self.state = ACTING_STATES[self.state]
        else:
            raise ValueError(f"state {self.state.label} is a wait state: nothing to complete")
        return self.state
