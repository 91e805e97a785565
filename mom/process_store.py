"""Deployed process versions and their specs, kept under the data directory.

``specs/<sha256>.json`` holds each serialized spec (content-addressed, so a worker can load the
exact version an instance runs); ``processes/<process_id>.json`` lists the versions of a process.
Writes go to a temporary file first and are renamed into place, so a crash leaves no half file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class ProcessVersion:
    process_id: str
    version: int
    spec_sha256: str
    source_name: str
    source_sha256: str
    deployed_at: str
    deployed_by: str


class SpecNotFound(LookupError):
    pass


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ProcessStore:
    def __init__(self, data_dir: Path):
        self.spec_dir = data_dir / "specs"
        self.process_dir = data_dir / "processes"
        self.source_dir = data_dir / "sources"

    def load_spec(self, sha256: str) -> str:
        if not all(c in "0123456789abcdef" for c in sha256) or len(sha256) != 64:
            raise SpecNotFound(f"'{sha256}' is not a spec SHA-256")
        path = self.spec_dir / f"{sha256}.json"
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecNotFound(f"spec {sha256} is not deployed in {self.spec_dir}") from None

    def load_source(self, source_sha256: str) -> bytes:
        """The deployed diagram file of a version (by its SHA-256)."""
        if not all(c in "0123456789abcdef" for c in source_sha256) or len(source_sha256) != 64:
            raise SpecNotFound(f"'{source_sha256}' is not a source SHA-256")
        try:
            return (self.source_dir / f"{source_sha256}.bpmn").read_bytes()
        except FileNotFoundError:
            raise SpecNotFound(f"source {source_sha256} is not deployed in {self.source_dir}") from None

    def versions(self, process_id: str) -> list[ProcessVersion]:
        path = self.process_dir / f"{process_id}.json"
        if not path.exists():
            return []
        return [ProcessVersion(**v) for v in json.loads(path.read_text(encoding="utf-8"))]

    def latest(self, process_id: str) -> ProcessVersion | None:
        versions = self.versions(process_id)
        return versions[-1] if versions else None

    def process_ids(self) -> list[str]:
        return sorted(p.stem for p in self.process_dir.glob("*.json")) if self.process_dir.exists() else []

    def save(
        self,
        *,
        process_id: str,
        spec_json: str,
        spec_sha256: str,
        source: bytes,
        source_name: str,
        source_sha256: str,
        deployed_by: str,
    ) -> tuple[ProcessVersion, bool]:
        """Store a deployed spec; returns (version, created). Re-deploying the same spec is a no-op."""
        versions = self.versions(process_id)
        if versions and versions[-1].spec_sha256 == spec_sha256:
            return versions[-1], False
        spec_path = self.spec_dir / f"{spec_sha256}.json"
        if not spec_path.exists():
            _write_atomically(spec_path, spec_json)
        source_path = self.source_dir / f"{source_sha256}.bpmn"
        if not source_path.exists():
            _write_atomically(source_path, source.decode("utf-8"))
        version = ProcessVersion(
            process_id=process_id,
            version=len(versions) + 1,
            spec_sha256=spec_sha256,
            source_name=source_name,
            source_sha256=source_sha256,
            deployed_at=datetime.now(UTC).isoformat(),
            deployed_by=deployed_by,
        )
        _write_atomically(
            self.process_dir / f"{process_id}.json",
            json.dumps([asdict(v) for v in [*versions, version]], indent=1),
        )
        return version, True

    def started_by_message(self, name: str) -> list[ProcessVersion]:
        """The latest version of every process that a message ``name`` starts (message start event)."""
        started = []
        for process_id in self.process_ids():
            latest = self.latest(process_id)
            if latest is None:
                continue
            try:
                document = json.loads(self.load_spec(latest.spec_sha256))
            except (SpecNotFound, ValueError):
                continue
            if name in document.get("message_starts", []):
                started.append(latest)
        return started
