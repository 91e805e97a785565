"""Every service-task type a diagram may name is run by a worker: cloud types by the cloud worker,
machine types only by the edge worker (the cloud worker never opens OPC UA)."""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

from mom.settings import load_settings
from mom.task_catalog import CATALOG
from worker import cloud_activities, edge_activities


def names(functions: list[object]) -> set[str]:
    found = set()
    for fn in functions:
        definition = activity._Definition.from_callable(fn)  # type: ignore[arg-type]
        assert definition is not None and definition.name is not None
        found.add(definition.name)
    return found


def test_catalog_and_workers_agree(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    cloud, edge = names(cloud_activities(settings, [])), names(edge_activities(settings, "plant1", []))
    for entry in CATALOG.values():
        if entry.runs == "edge":
            assert entry.name in edge and entry.name not in cloud, entry.name
        else:
            assert entry.name in cloud, entry.name
    assert not any(name.startswith("machine.") for name in cloud)


def test_required_inputs_are_declared_inputs() -> None:
    from mom.task_catalog import CATALOG

    assert CATALOG["mom.log"].required == ("message",)
    for entry in CATALOG.values():
        assert set(entry.required) <= set(entry.inputs), entry.name
