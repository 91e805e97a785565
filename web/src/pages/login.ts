/** Sign-in with the API's OAuth2 password flow; a one-time password must be changed first. */

import { ApiError } from "../api";
import { h, clear, notice, errorText } from "../dom";
import { changePassword, signIn } from "../session";

export function renderLogin(root: HTMLElement, done: () => void): void {
  const username = h("input", { name: "username", autocomplete: "username", required: true, autofocus: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const status = h("div", { class: "status" });
  const form = h(
    "form",
    { class: "card login", "data-testid": "login" },
    h("h1", {}, "Smart MOM"),
    h("label", {}, "User name", username),
    h("label", {}, "Password", password),
    h("button", { type: "submit", class: "primary big" }, "Sign in"),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await signIn(username.value.trim(), password.value);
      done();
    } catch (error) {
      if (error instanceof ApiError && error.status === 403 && String(error.message).includes("change")) {
        renderPasswordChange(root, username.value.trim(), password.value, done);
        return;
      }
      notice(status, "error", errorText(error));
    }
  });
  clear(root, h("main", { class: "center" }, form));
}

function renderPasswordChange(root: HTMLElement, name: string, oldPassword: string, done: () => void): void {
  const next = h("input", { type: "password", name: "new_password", autocomplete: "new-password", required: true });
  const status = h("div", { class: "status" });
  const form = h(
    "form",
    { class: "card login" },
    h("h1", {}, "Choose your password"),
    h("p", {}, "Your password was set by an administrator: choose your own to continue."),
    h("label", {}, "New password", next),
    h("button", { type: "submit", class: "primary big" }, "Change password"),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await changePassword(name, oldPassword, next.value);
      done();
    } catch (error) {
      notice(status, "error", errorText(error));
    }
  });
  clear(root, h("main", { class: "center" }, form));
}
