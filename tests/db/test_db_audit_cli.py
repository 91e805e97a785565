"""``mom audit verify`` exits 0 on an intact log and 1 with the first break after tampering."""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

import pytest

from mom.cli import audit as audit_cli
from mom.db.migrate import upgrade_database


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mom")
    audit_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_verify_reports_intact_then_the_edited_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "mom.db"
    url = f"sqlite:///{db}"
    upgrade_database(url, actor="ops")
    assert _run(["audit", "verify", "--database-url", url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["intact"] is True and report["entries"] == 1 and len(report["head_hash"]) == 64

    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER audit_entries_no_update")
        conn.execute("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 1")
    assert _run(["audit", "verify", "--database-url", url, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["first_break"]["seq"] == 1 and report["first_break"]["kind"] == "edited"
    assert _run(["audit", "verify", "--database-url", url]) == 1
    assert "broken at entry 1 (edited)" in capsys.readouterr().out

    assert _run(["audit", "log", "--database-url", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["entries"][0]["actor"] == "mallory"


def test_verify_without_a_database_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["audit", "verify", "--database-url", f"sqlite:///{tmp_path / 'none.db'}"]) == 2
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
