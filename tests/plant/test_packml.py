from __future__ import annotations

import pytest

from mom.plant.packml import (
    InvalidTransition,
    PackMLCommand,
    PackMLState,
    PackMLStateMachine,
    accepted_commands,
)

S, C = PackMLState, PackMLCommand


def test_a_job_cycle_goes_idle_starting_execute_completing_complete_and_back():
    sm = PackMLStateMachine()
    assert sm.command(C.START) is S.STARTING
    assert sm.state_complete() is S.EXECUTE
    assert sm.state_complete() is S.COMPLETING
    assert sm.state_complete() is S.COMPLETE
    assert sm.command(C.RESET) is S.RESETTING
    assert sm.state_complete() is S.IDLE


def test_hold_unhold_and_abort_clear_reset():
    sm = PackMLStateMachine(S.EXECUTE)
    assert sm.command(C.HOLD) is S.HOLDING
    assert sm.state_complete() is S.HELD
    assert sm.command(C.UNHOLD) is S.UNHOLDING
    assert sm.state_complete() is S.EXECUTE
    assert sm.command(C.ABORT) is S.ABORTING
    assert sm.state_complete() is S.ABORTED
    assert sm.command(C.CLEAR) is S.CLEARING
    assert sm.state_complete() is S.STOPPED
    assert sm.command(C.RESET) is S.RESETTING


def test_refused_command_names_state_and_what_is_accepted():
    sm = PackMLStateMachine(S.HELD)
    with pytest.raises(InvalidTransition, match=r"Start is not accepted in state Held \(accepted there: .*Unhold"):
        sm.command(C.START)
    assert sm.state is S.HELD


def test_stop_and_abort_are_accepted_almost_everywhere_but_not_twice():
    assert C.ABORT not in accepted_commands(S.ABORTED)
    assert C.STOP not in accepted_commands(S.STOPPED)
    for state in (S.IDLE, S.EXECUTE, S.HELD, S.COMPLETE, S.STARTING):
        assert C.ABORT in accepted_commands(state)
        assert C.STOP in accepted_commands(state)


def test_state_codes_and_labels_follow_packml():
    assert (S.IDLE.value, S.EXECUTE.value, S.HELD.value, S.ABORTED.value, S.COMPLETE.value) == (4, 6, 11, 9, 17)
    assert S.from_label("Execute") is S.EXECUTE
    with pytest.raises(ValueError, match="unknown PackML state 'Running'"):
        S.from_label("Running")
