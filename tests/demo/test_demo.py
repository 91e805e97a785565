"""``mom demo`` end to end, small: a shift of a few orders on four simulated machines with every
incident of the full demo (breakdown, quantity change, ECO, quality deviation), exit status 0 and
the summary printed."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mom.cli import demo
from mom.db import create_database_engine, create_session_factory
from mom.db.models import MachineEvent, ProductionOrder


@pytest.mark.timeout(150)
def test_a_small_shift_completes_everything_and_prints_the_summary(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    demo.register(parser.add_subparsers())
    data_dir = tmp_path / "demo"
    args = parser.parse_args(["demo", "--orders", "5", "--machines", "4", "--seed", "3", "--speed", "40",
                              "--timeout", "90", "--data-dir", str(data_dir)])

    assert args.func(args) == 0

    out = capsys.readouterr().out
    assert "orders done" in out and "5 / 5" in out
    assert "everything that should complete did" in out
    for incident in ("breakdown", "quantity", "engineering", "quality"):
        assert incident in out
    for machine in ("Press1", "Press2", "Coater1", "Coater2"):
        assert machine in out
    engine = create_database_engine(f"sqlite:///{data_dir / 'mom.db'}")
    try:
        with create_session_factory(engine)() as session:
            statuses = set(session.scalars(select(ProductionOrder.status)))
            assert [s.value for s in statuses] == ["completed"]
            held = session.scalar(select(func.count()).select_from(MachineEvent).where(MachineEvent.name == "Held"))
            assert held, "the jam was seen by the machine monitor"
    finally:
        engine.dispose()
