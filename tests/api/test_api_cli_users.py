"""``mom users add/list/passwd`` on a SQLite database under the data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mom.cli import users as users_cli


def run(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="mom")
    users_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_add_list_passwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MOM_NEW_PASSWORD", "a-good-long-password")
    assert run(["users", "add", "sam", "--role", "supervisor", "--group", "supervisors"]) == 0
    assert run(["users", "add", "sam", "--role", "supervisor"]) == 1  # exists
    capsys.readouterr()
    assert run(["users", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["username"] == "sam" and listed[0]["groups"] == ["supervisors"]
    assert run(["users", "passwd", "sam"]) == 0
    assert run(["users", "passwd", "ghost"]) == 1
    monkeypatch.setenv("MOM_NEW_PASSWORD", "short")
    with pytest.raises(SystemExit, match="at least"):
        run(["users", "add", "bob"])
