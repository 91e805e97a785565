"""The administrator's Users page in headless Chromium against the real API: per-field errors,
a new operator with a one-time password who chooses their own at the first sign-in, deactivation,
a password reset, the last administrator who cannot lock everybody out, sign-out and unlocking.
Screenshots: test-artifacts/web/<test name>/."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from playwright.async_api import Page, expect

from mom.settings import Settings
from web.browsing import PASSWORD, Browsing
from web.conftest import WORK_CENTER


async def _sign_in_with(page: Page, base_url: str, username: str, password: str) -> None:
    await page.goto(f"{base_url}/ui/#/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")


async def test_admin_manages_users_and_cannot_remove_the_last_admin(browsing: Browsing) -> None:
    page, base_url = browsing.page, browsing.base_url

    # only the administrator has the page
    await browsing.sign_in("sam")
    await expect(page.locator("header nav a")).to_have_text(
        ["Inbox", "Station", "Orders", "Lots", "Instances", "Dashboards", "Equipment", "Audit"])
    await browsing.sign_out()
    await browsing.sign_in("ada")
    await expect(page.locator("[data-nav=users]")).to_be_visible()
    await page.click("[data-nav=users]")
    rows = page.locator("[data-testid=users] tbody tr")
    await expect(rows).to_have_count(4)  # ada, erin, otto, sam
    await expect(page.locator('tr[data-username="otto"]')).to_contain_text(WORK_CENTER)

    # a user name with a space: the error stands at the field, nobody is created
    await page.get_by_test_id("new-user").click()
    form = page.get_by_test_id("user-form")
    one_time = await form.locator("input[name=password]").input_value()
    assert len(one_time) == 14
    await form.locator("input[name=username]").fill("olivia martin")
    await form.locator("input[name=full_name]").fill("Olivia Martin")
    await form.locator('input[name=roles][value="operator"]').check()
    await form.locator("input[name=groups]").fill("operators")
    await form.locator("input[name=work_centers]").fill(WORK_CENTER)
    await form.get_by_role("button", name="Create user").click()
    await expect(form.locator('[data-error-for="username"]')).to_contain_text("no spaces")
    await expect(rows).to_have_count(4)
    await browsing.shot("01-field-error")

    await form.locator("input[name=username]").fill("olivia")
    await form.get_by_role("button", name="Create user").click()
    await expect(page.get_by_test_id("user-result")).to_contain_text(f"One-time password: {one_time}")
    olivia = page.locator('tr[data-username="olivia"]')
    await expect(olivia).to_contain_text("one-time password")
    await expect(olivia).to_contain_text("operator")
    await browsing.shot("02-created")

    # the last active administrator cannot deactivate herself
    await page.locator('tr[data-username="ada"]').click()
    await form.locator("input[name=active]").uncheck()
    await form.get_by_role("button", name="Save").click()
    await expect(page.get_by_test_id("user-result")).to_contain_text("last active administrator")
    await page.locator('tr[data-username="ada"]').click()
    await expect(form.locator("input[name=active]")).to_be_checked()  # still active, as the API says
    await browsing.sign_out()

    # the new operator chooses her own password, then sees her station
    await _sign_in_with(page, base_url, "olivia", one_time)
    await expect(page.get_by_text("Choose your password")).to_be_visible()
    await page.fill("input[name=new_password]", "her-own-river-password")
    await page.click("button[type=submit]")
    await expect(page.locator("header nav a")).to_have_text(["Station"])
    await browsing.sign_out()

    # deactivated: she cannot sign in any more; a reset password must be changed by its user
    await browsing.sign_in("ada")
    await page.click("[data-nav=users]")
    await page.locator('tr[data-username="olivia"]').click()
    await expect(form.locator("input[name=active]")).to_be_checked()
    await form.locator("input[name=active]").uncheck()
    await form.get_by_role("button", name="Save").click()
    await expect(page.get_by_test_id("user-result")).to_contain_text("olivia saved")
    await expect(page.locator('tr[data-username="olivia"]')).to_have_count(0)  # the list shows active users
    await page.get_by_test_id("show-inactive").check()
    await expect(page.locator('tr[data-username="olivia"]')).to_contain_text("inactive")
    await page.locator('tr[data-username="sam"]').click()
    page.once("dialog", lambda dialog: dialog.dismiss())  # changed her mind: nothing happens
    await page.get_by_test_id("reset-password").click()
    await page.get_by_test_id("filter-role").select_option("supervisor")  # a request after the click's
    await expect(page.locator("[data-testid=users] tbody tr")).to_have_count(1)
    assert not [url for url in browsing.requests if url.endswith("/users/sam/password")]
    await expect(page.get_by_test_id("user-result")).to_be_empty()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_test_id("reset-password").click()
    result = page.get_by_test_id("user-result")
    await expect(result).to_contain_text("New one-time password for sam: ")
    reset = (await result.inner_text()).rsplit(": ", 1)[1].strip()
    await browsing.shot("03-reset")
    await browsing.sign_out()

    await _sign_in_with(page, base_url, "olivia", "her-own-river-password")
    await expect(page.get_by_test_id("login")).to_contain_text("inactive")
    await _sign_in_with(page, base_url, "sam", PASSWORD)
    await expect(page.get_by_test_id("login")).to_be_visible()  # the old password no longer works
    await _sign_in_with(page, base_url, "sam", reset)
    await expect(page.get_by_text("Choose your password")).to_be_visible()
    assert browsing.foreign_requests() == []


async def test_sign_out_ends_the_token_and_an_admin_unlocks_a_locked_user(browsing: Browsing,
                                                                          web_settings: Settings) -> None:
    """Issue J.6 in the UI: Sign out revokes the token at the API (not only in the tab); a user
    locked after too many failed sign-ins shows as locked and the administrator unlocks them."""
    page, base_url = browsing.page, browsing.base_url
    await browsing.sign_in("sam")
    token = await page.evaluate("() => Object.values(sessionStorage).find((v) => v.split('.').length === 3)")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url) as http:
        assert (await http.get("/auth/me", headers=headers)).status_code == 200
        await browsing.sign_out()
        refused = await http.get("/auth/me", headers=headers)
        assert refused.status_code == 401 and "signed out" in refused.json()["detail"]

    engine = sa.create_engine(web_settings.effective_database_url)
    with engine.begin() as connection:  # as ten failed sign-ins in a row leave it
        connection.execute(sa.text("UPDATE users SET locked_at = :now, failed_sign_ins = 10 WHERE username = 'otto'"),
                           {"now": datetime.now(UTC).replace(tzinfo=None)})
    engine.dispose()
    await _sign_in_with(page, base_url, "otto", PASSWORD)
    await expect(page.get_by_test_id("login")).to_contain_text("locked after 10 failed sign-ins")
    await browsing.sign_in("ada")
    await page.click("[data-nav=users]")
    otto = page.locator('tr[data-username="otto"]')
    await expect(otto).to_contain_text("locked")
    await otto.click()
    await page.get_by_test_id("unlock-user").click()
    await expect(page.get_by_test_id("user-result")).to_contain_text("otto unlocked")
    await expect(otto).to_contain_text("active")
    await browsing.shot("unlocked")
    await browsing.sign_out()
    await browsing.sign_in("otto")
