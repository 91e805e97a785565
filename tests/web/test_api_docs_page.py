"""/docs in headless Chromium: Swagger UI renders the API from this server alone (plants are
air-gapped) under the server's Content-Security-Policy (the fixture fails on any refusal)."""

from __future__ import annotations

from playwright.async_api import expect

from web.browsing import Browsing


async def test_swagger_ui_renders_from_this_server_only(browsing: Browsing) -> None:
    page = browsing.page
    await page.goto(f"{browsing.base_url}/docs")
    await expect(page.locator(".information-container .title")).to_contain_text("Smart MOM")
    await expect(page.locator(".opblock-tag-section").first).to_be_visible()
    await browsing.shot("01-api-docs")
    assert browsing.foreign_requests() == []
