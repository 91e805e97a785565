"""Requests that carry process data are refused over ``MOM_MAX_VARIABLES_BYTES`` (413, naming the field).

Why a cap per request, and why 256 KB by default: see :mod:`bpmn.payload_size`. The check is one
function each route calls on the field it passes on to the workflow, after authentication and
before anything is written or sent to Temporal.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status

from bpmn.payload_size import TooLarge, check_size
from mom.settings import Settings

SETTING = "MOM_MAX_VARIABLES_BYTES"


def require_small(settings: Settings, field: str, value: Any) -> None:
    """413 when ``value`` (the request's ``field``) is over the configured size."""
    try:
        check_size(value, field, settings.max_variables_bytes, SETTING)
    except TooLarge as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, {
            "message": str(exc), "field": field, "bytes": exc.size, "limit": exc.limit}) from None
