from __future__ import annotations

from pathlib import Path

import pytest

from mom.scheduling.instances import InstanceError, parse_orlib, parse_taillard, read_instance


def test_orlib_and_taillard_files_describe_the_same_ft06(data_dir: Path) -> None:
    orlib = read_instance(data_dir / "ft06.txt", "orlib")
    taillard = read_instance(data_dir / "ft06.tai", "taillard")
    assert (orlib.n_jobs, orlib.n_machines) == (6, 6)
    assert orlib.jobs == taillard.jobs
    assert orlib.jobs[0][:2] == ((2, 1), (0, 3))


def test_taillard_header_with_seeds_and_bounds_is_accepted() -> None:
    text = "2 2 840612802 398197754 30 20\nTimes\n1 2\n3 4\nMachines\n1 2\n2 1\n"
    instance = parse_taillard(text, "x.tai")
    assert instance.jobs == (((0, 1), (1, 2)), ((1, 3), (0, 4)))


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("2 2\n0 5 1 3\n0 4 x 2\n", 3, "expected integers"),
        ("2 2\n0 5 1 3\n0 4 2 2\n", 3, "machine 2 out of range 0..1"),
        ("2 2\n0 5 1 3\n0 4 1\n", 3, "pairs"),
        ("2 2\n0 5 1 3\n", 2, "expected 2 job lines"),
        ("2\n0 5\n", 1, "header"),
        ("2 2\n0 5 1 3\n0 4 1 2\n0 1\n", 4, "unexpected line"),
        ("# only a comment\n\n", 1, "empty file"),
    ],
)
def test_bad_orlib_files_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(InstanceError) as error:
        parse_orlib(text, "bad.txt")
    assert str(error.value).startswith(f"bad.txt:{line}:")
    assert words in str(error.value)


def test_bad_taillard_machine_numbering_names_the_line() -> None:
    text = "2 2\n1 2\n3 4\n0 1\n2 1\n"  # machines numbered from 0: wrong for Taillard
    with pytest.raises(InstanceError, match=r"^t.tai:4: machine 0 out of range 1..2"):
        parse_taillard(text, "t.tai")


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(InstanceError, match="cannot read"):
        read_instance(tmp_path / "nope.txt", "orlib")
