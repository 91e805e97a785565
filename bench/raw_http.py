"""A minimal HTTP/1.1 keep-alive GET client on asyncio streams, for benchmarks' bulk load.

httpx spends ~6 ms of CPU a request here, as much as the API serving it: on 2 shared cores the
load generator then takes CPU from the server it measures. This client sends one GET at a time on
its own connection and reads the answer (Content-Length or chunked): ~10x less CPU a request.
"""

from __future__ import annotations

import asyncio
import contextlib


class HttpError(Exception):
    """The connection failed or the answer was not HTTP/1.1 as expected."""


class RawConnection:
    """One persistent connection to ``host:port``; reconnects after an error."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self._headers = "".join(f"{name}: {value}\r\n" for name, value in {"Host": f"{host}:{port}", **headers}.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> tuple[int, bytes]:
        """GET ``target`` (path and query); the status code and the body."""
        try:
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            assert self._reader is not None
            self._writer.write(f"GET {target} HTTP/1.1\r\n{self._headers}\r\n".encode("latin-1"))
            head = await self._reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            if "content-length" in fields:
                body = await self._reader.readexactly(int(fields["content-length"]))
            elif fields.get("transfer-encoding", "").lower() == "chunked":
                body = await self._chunked()
            else:
                raise HttpError(f"GET {target}: answer without Content-Length or chunked encoding")
            if fields.get("connection", "").lower() == "close":
                await self.close()
            return status, body
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError) as exc:
            await self.close()
            raise HttpError(f"GET {target}: {type(exc).__name__} {exc}") from None

    async def _chunked(self) -> bytes:
        assert self._reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None
