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
    with pytest.raises(SystemExit, match="rule: at least 12 characters"):
        run(["users", "add", "bob"])
    monkeypatch.setenv("MOM_NEW_PASSWORD", "sunshine2026!")
    with pytest.raises(SystemExit, match="most common passwords"):
        run(["users", "passwd", "sam"])


def test_unlock_a_locked_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    """``mom users unlock NAME`` (works when every administrator is locked out of the API)."""
    import sqlalchemy as sa

    monkeypatch.setenv("MOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MOM_NEW_PASSWORD", "a-good-long-password")
    assert run(["users", "add", "ada", "--role", "admin"]) == 0
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'mom.db'}")
    with engine.begin() as connection:  # as the sign-in leaves it after too many failures
        connection.exec_driver_sql("UPDATE users SET locked_at = '2026-12-08 02:00:00', failed_sign_ins = 10")
    engine.dispose()
    capsys.readouterr()
    assert run(["users", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["locked"] is True
    assert run(["users", "unlock", "ada"]) == 0
    assert "ada unlocked" in capsys.readouterr().out
    assert run(["users", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["locked"] is False
    assert run(["users", "unlock", "ghost"]) == 1
