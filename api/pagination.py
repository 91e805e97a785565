"""One page of a list: ``?offset=&limit=`` in, ``{items, total, offset, limit}`` out."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

T = TypeVar("T")
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


class PageParams(BaseModel):
    offset: int
    limit: int


def page_params(
    offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="rows to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"rows to return (at most {MAX_LIMIT})")] = 50,
) -> PageParams:
    return PageParams(offset=offset, limit=limit)


Paging = Annotated[PageParams, Depends(page_params)]
