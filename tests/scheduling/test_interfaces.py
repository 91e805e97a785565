"""CLI, activities and Gantt chart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.scheduling import SchedulingActivities
from mom.cli import main
from mom.scheduling.exchange import plan_from_dict, problem_to_dict
from mom.scheduling.feasibility import violations
from mom.scheduling.gantt import gantt_data, gantt_png, gantt_svg
from mom.scheduling.instances import read_instance
from mom.scheduling.model import ShopProblem
from mom.scheduling.solver import SolveOptions, solve


def test_cli_solve_prints_only_the_json_result(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["schedule", "solve", str(data_dir / "ft06.tai"), "--format", "taillard",
                 "--time-limit", "3", "--json"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    result = json.loads(out)
    assert set(result) == {"makespan", "status", "lower_bound", "operations"}
    assert result["makespan"] == 55 and result["status"] == "optimal"
    ops = result["operations"]
    assert len(ops) == 36
    assert ops[0] == {**ops[0], "job": 0, "index": 0, "machine": 2}
    assert ops[0]["end"] - ops[0]["start"] == 1
    jobs = read_instance(data_dir / "ft06.txt", "orlib").jobs
    for op in ops:  # every operation on its machine for its duration, in file order
        assert (op["machine"], op["end"] - op["start"]) == jobs[op["job"]][op["index"]]
    assert max(op["end"] for op in ops) == 55


def test_cli_bad_file_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("2 2\n0 5 1 3\n0 4 1 x\n")
    code = main(["schedule", "solve", str(bad), "--format", "orlib", "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert f"{bad}:3:" in captured.err.replace("\n", "")


def test_cli_plan_and_gantt(
    plant: ShopProblem, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problem_file = tmp_path / "problem.json"
    problem_file.write_text(json.dumps(problem_to_dict(plant)))
    chart = tmp_path / "plan.svg"
    code = main(["schedule", "plan", str(problem_file), "--time-limit", "1", "--json",
                 "--gantt", str(chart)])  # fmt: skip
    assert code == 0
    plan = plan_from_dict(json.loads(capsys.readouterr().out))
    assert violations(plant, plan.operations) == []
    assert chart.read_text().startswith("<svg")


async def test_plan_and_replan_activities(plant: ShopProblem) -> None:
    activities = SchedulingActivities()
    env = ActivityEnvironment()
    inputs = {"problem": problem_to_dict(plant), "time_limit": 1,
              "objective": {"makespan": 1, "weighted_tardiness": 1}}  # fmt: skip
    planned = await env.run(activities.plan, inputs)
    json.dumps(planned)
    assert violations(plant, plan_from_dict(planned).operations) == []
    assert planned["gantt"]["bars"]
    replanned = await env.run(
        activities.replan,
        {"problem": problem_to_dict(plant), "plan": planned, "now": 10, "time_limit": 1,
         "events": [{"type": "breakdown", "work_unit": "PRESS", "start": 10, "end": 40}]},
    )  # fmt: skip
    json.dumps(replanned)
    assert isinstance(replanned["changes"], list)
    for op in replanned["plan"]["operations"]:
        if op["work_unit"] == "PRESS" and not op["fixed"]:
            assert op["end"] <= 10 or op["start"] >= 40


async def test_activity_rejects_bad_input_naming_the_field() -> None:
    env = ActivityEnvironment()
    bad = {"problem": {"work_units": [{"id": "M1"}], "job_orders": [{"id": "J1"}]}}
    with pytest.raises(ApplicationError, match=r"job_orders\[0\]\.operations: missing"):
        await env.run(SchedulingActivities().plan, bad)


def test_gantt_outputs(plant: ShopProblem) -> None:
    plan = solve(plant, options=SolveOptions(time_limit=0.5))
    data = gantt_data(plan, plant)
    assert data["work_units"] == ["PRESS", "MILL1", "MILL2"]
    assert len(data["bars"]) == len(plan.operations)
    assert data["downtimes"][0]["work_unit"] == "MILL1"
    svg = gantt_svg(plan, plant)
    assert svg.count("<rect") >= len(plan.operations) + 1
    png = gantt_png(plan, plant)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in png
