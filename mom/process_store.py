"""Deployed process versions and their specs, kept in the database.

Three tables (mom.db.models.specs): ``process_specs`` holds each serialized spec and
``process_sources`` each deployed diagram, both content-addressed by SHA-256 and written once (the
same content deployed twice, or by two hosts at once, is one row); ``process_spec_versions`` lists
the versions of a process. A workflow is started with the spec's SHA-256, so any worker that
reaches the database runs the exact version an instance was started with (bpmn.spec_cache keeps
what it read), whatever its data directory: API processes, workers and ``mom run`` on other hosts
share the database and Temporal, never a disk.

Why the database and not the data directory: these were files under ``data/specs``, ``sources``
and ``processes``, so the API and every worker had to mount one volume; a worker on a second host
could not run what the API deployed, and ``mom run`` from another checkout failed with "spec ...
is not deployed in .../data/specs".

Upgrading: an install from before kept them as files. The first time a store is opened on a data
directory (the API, a worker or a CLI command starting), the files found there are imported into
the database (rows already present win; nothing is deleted), so instances started before the
upgrade still find their specs. The files can be removed once every host runs this version.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from mom.db.engine import create_database_engine
from mom.db.models.specs import ProcessSource, ProcessSpec, ProcessSpecVersion

if TYPE_CHECKING:
    from mom.settings import Settings


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


_engines: OrderedDict[str, Engine] = OrderedDict()
_MAX_ENGINES = 8
"""Databases whose pooled connections one process keeps open at once (an API, a worker or a CLI uses
one; a test session opens many): the least recently opened beyond it closes its idle connections
(its stores keep working and connect again when used)."""
_imported: set[tuple[str, Path]] = set()
_open_lock = threading.Lock()
_VERSION_RETRIES = 5


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def default_database_url(data_dir: Path) -> str:
    """The database of an install whose data directory is ``data_dir``, as mom.settings.Settings
    chooses it: ``MOM_DATABASE_URL``, else the SQLite file in the data directory."""
    return os.environ.get("MOM_DATABASE_URL") or f"sqlite:///{data_dir / 'mom.db'}"


def _engine_for(url: str) -> Engine:
    """One engine per database URL per process, its schema brought up to date on first use."""
    with _open_lock:
        engine = _engines.get(url)
        if engine is None:
            from mom.db.migrate import upgrade_engine

            engine = create_database_engine(url)
            if not sa.inspect(engine).has_table(ProcessSpec.__tablename__):
                upgrade_engine(engine)
            _engines[url] = engine
            while len(_engines) > _MAX_ENGINES:
                _engines.popitem(last=False)[1].dispose()
        else:
            _engines.move_to_end(url)
        return engine


class ProcessStore:
    """The deployed processes of the database at ``database_url`` (default: the one the install
    at ``data_dir`` uses, see :func:`default_database_url`); ``data_dir`` is only read for the
    files of an older install (imported once, see the module docstring)."""

    def __init__(self, data_dir: Path | None = None, *, database_url: str | None = None):
        if data_dir is None and database_url is None:
            raise ValueError("ProcessStore needs a data directory or a database URL")
        self.database_url = database_url or default_database_url(data_dir)  # type: ignore[arg-type]
        self.engine = _engine_for(self.database_url)
        if data_dir is not None:
            self._import_files(data_dir)

    @classmethod
    def for_settings(cls, settings: Settings) -> ProcessStore:
        return cls(settings.data_dir, database_url=settings.effective_database_url)

    @property
    def where(self) -> str:
        """The database, as error messages name it (without its password)."""
        return self.engine.url.render_as_string(hide_password=True)

    def load_spec(self, sha256: str) -> str:
        if not _is_sha256(sha256):
            raise SpecNotFound(f"'{sha256}' is not a spec SHA-256")
        with self.engine.connect() as connection:
            text = connection.scalar(sa.select(ProcessSpec.spec_json).where(ProcessSpec.sha256 == sha256))
        if text is None:
            raise SpecNotFound(f"spec {sha256} is not deployed in the database {self.where} (table process_specs)")
        return text

    def load_source(self, source_sha256: str) -> bytes:
        """The deployed diagram file of a version (by its SHA-256)."""
        if not _is_sha256(source_sha256):
            raise SpecNotFound(f"'{source_sha256}' is not a source SHA-256")
        with self.engine.connect() as connection:
            content = connection.scalar(
                sa.select(ProcessSource.content).where(ProcessSource.sha256 == source_sha256))
        if content is None:
            raise SpecNotFound(f"source {source_sha256} is not deployed in the database {self.where} "
                               "(table process_sources)")
        return bytes(content)

    def versions(self, process_id: str) -> list[ProcessVersion]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(*ProcessSpecVersion.__table__.columns).where(ProcessSpecVersion.process_id == process_id)
                .order_by(ProcessSpecVersion.version)).all()
        return [ProcessVersion(**row._mapping) for row in rows]

    def latest(self, process_id: str) -> ProcessVersion | None:
        versions = self.versions(process_id)
        return versions[-1] if versions else None

    def process_ids(self) -> list[str]:
        with self.engine.connect() as connection:
            return list(connection.scalars(
                sa.select(ProcessSpecVersion.process_id).distinct().order_by(ProcessSpecVersion.process_id)))

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
        self._put_content(ProcessSpec, spec_sha256, {"spec_json": spec_json})
        self._put_content(ProcessSource, source_sha256, {"content": source})
        for _ in range(_VERSION_RETRIES):
            latest = self.latest(process_id)
            if latest is not None and latest.spec_sha256 == spec_sha256:
                return latest, False
            version = ProcessVersion(
                process_id=process_id,
                version=(latest.version if latest else 0) + 1,
                spec_sha256=spec_sha256,
                source_name=source_name,
                source_sha256=source_sha256,
                deployed_at=datetime.now(UTC).isoformat(),
                deployed_by=deployed_by,
            )
            try:
                with self.engine.begin() as connection:
                    connection.execute(sa.insert(ProcessSpecVersion).values(**version.__dict__))
            except IntegrityError:  # another deploy took this version number: look again
                continue
            return version, True
        raise RuntimeError(f"process {process_id}: {_VERSION_RETRIES} deploys at once took every version "
                           f"number this one tried in the database {self.where}")

    def _put_content(self, table: type[ProcessSpec] | type[ProcessSource], sha256: str,
                     values: dict[str, object]) -> None:
        """Write a content-addressed row once: present already (or written meanwhile) is fine."""
        with self.engine.connect() as connection:
            if connection.scalar(sa.select(table.sha256).where(table.sha256 == sha256)) is not None:
                return
        try:
            with self.engine.begin() as connection:
                connection.execute(sa.insert(table).values(sha256=sha256, created_at=datetime.now(UTC), **values))
        except IntegrityError:
            pass

    def _import_files(self, data_dir: Path) -> None:
        """Import the ``specs/``, ``sources/`` and ``processes/`` files of an older install."""
        key = (self.database_url, data_dir)
        with _open_lock:
            if key in _imported:
                return
            _imported.add(key)
        for path in sorted((data_dir / "specs").glob("*.json")):
            if _is_sha256(path.stem):
                self._put_content(ProcessSpec, path.stem, {"spec_json": path.read_text(encoding="utf-8")})
        for path in sorted((data_dir / "sources").glob("*.bpmn")):
            if _is_sha256(path.stem):
                self._put_content(ProcessSource, path.stem, {"content": path.read_bytes()})
        for path in sorted((data_dir / "processes").glob("*.json")):
            known = {v.version for v in self.versions(path.stem)}
            for entry in json.loads(path.read_text(encoding="utf-8")):
                version = ProcessVersion(**entry)
                if version.version in known:
                    continue
                try:
                    with self.engine.begin() as connection:
                        connection.execute(sa.insert(ProcessSpecVersion).values(**version.__dict__))
                except IntegrityError:  # its spec or source file was missing, or another host imported it
                    continue

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
