"""A signed-in browser tab on the web UI, for the tests in this folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Page

PASSWORD = "correct-horse-battery"


@dataclass
class Browsing:
    """One browser context on the app; every request it made, to prove nothing left the plant."""

    page: Page
    base_url: str
    artifacts: Path
    requests: list[str] = field(default_factory=list)

    async def shot(self, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    async def sign_in(self, username: str) -> None:
        await self.page.goto(f"{self.base_url}/ui/#/login")
        await self.page.fill("input[name=username]", username)
        await self.page.fill("input[name=password]", PASSWORD)
        await self.page.click("button[type=submit]")
        await self.page.wait_for_selector("[data-testid=who]")

    async def sign_out(self) -> None:
        await self.page.click("text=Sign out")
        await self.page.wait_for_selector("[data-testid=login]")

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith((self.base_url, "data:", "blob:"))]
