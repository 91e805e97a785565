"""Sessions shared by endpoint: one :class:`EndpointSession` per server URL, reused by every
command that goes to that server (a worker must not open a session per activity)."""

from __future__ import annotations

import asyncio

from connectors.opcua.session import EndpointSession, SessionOptions


class SessionPool:
    def __init__(self, options: SessionOptions | None = None) -> None:
        self.options = options or SessionOptions()
        self._sessions: dict[str, EndpointSession] = {}
        self._lock = asyncio.Lock()

    async def session(self, endpoint: str) -> EndpointSession:
        """The connected session to ``endpoint``; connects on first use (or after a failed one)."""
        async with self._lock:
            session = self._sessions.get(endpoint)
            if session is None:
                session = EndpointSession(endpoint, self.options)
                self._sessions[endpoint] = session
        await session.connect()
        return session

    @property
    def endpoints(self) -> list[str]:
        return list(self._sessions)

    async def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
