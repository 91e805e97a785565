"""Deployed specs by SHA-256, loaded once per worker process and kept in memory.

A workflow is started with the SHA-256 of its spec, not the spec itself, so histories stay small.
The worker (its composition root) installs the loader that reads specs from where deploys put
them, the database's ``process_specs`` table (mom.process_store: no disk shared between the API and
workers on other hosts); the interpreter asks :func:`bundle_for` and gets the cached, deserialized
spec. A miss names the hash and where it was looked for. Because the
key is the content hash, reading it is deterministic: the same key always gives the same spec.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bpmn.spec_bundle import SpecBundle, sha256_of, spec_from_json

SpecLoader = Callable[[str], str]
_MAX_SPECS = 256
_lock = threading.Lock()
_loader: SpecLoader | None = None
_cache: OrderedDict[str, SpecBundle] = OrderedDict()


class SpecUnavailable(LookupError):
    pass


def install_loader(loader: SpecLoader) -> None:
    global _loader
    _loader = loader


def bundle_for(sha256: str) -> SpecBundle:
    with _lock:
        if sha256 in _cache:
            _cache.move_to_end(sha256)
            return _cache[sha256]
    if _loader is None:
        raise SpecUnavailable("no spec loader is installed in this worker")
    try:
        text = _loader(sha256)
    except LookupError as exc:
        raise SpecUnavailable(str(exc)) from None
    if sha256_of(text) != sha256:
        raise SpecUnavailable(f"spec {sha256} read from the store does not match its SHA-256")
    bundle = spec_from_json(text)
    with _lock:
        _cache[sha256] = bundle
        while len(_cache) > _MAX_SPECS:
            _cache.popitem(last=False)
    return bundle


@contextmanager
def substituted(specs: dict[str, str]) -> Iterator[None]:
    """Within the block, the given SHA-256s resolve to the given spec JSON instead of their own
    (dry-run replays of running instances against another version)."""
    with _lock:
        _cache.clear()
        for sha256, text in specs.items():
            _cache[sha256] = spec_from_json(text)
    try:
        yield
    finally:
        with _lock:
            _cache.clear()
