/**
 * Users (administrators): who may do what. Roles, the BPMN candidate groups a user's inbox offers,
 * the work centers an operator's station shows. A new user and a password reset get a one-time
 * password (generated here, handed over by the administrator) that the user replaces at the first
 * sign-in. The API refuses to deactivate or demote the last active administrator.
 */

import { ApiError, get, post, query, request } from "../api";
import { h, clear, notice, when, errorText } from "../dom";
import type { Page, Role } from "../types";

interface Account {
  username: string;
  full_name: string | null;
  roles: Role[];
  groups: string[];
  work_centers: string[];
  active: boolean;
  must_change_password: boolean;
  locked_at: string | null;
  created_at: string;
}

const ROLES: { role: Role; says: string }[] = [
  { role: "operator", says: "station steps of their work centers" },
  { role: "supervisor", says: "approvals and dispositions in the inbox" },
  { role: "engineer", says: "diagrams: deploy, migrate" },
  { role: "admin", says: "users" },
];

/** A one-time password without look-alike characters (read aloud or copied from a note). */
function oneTimePassword(): string {
  const letters = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(14));
  return Array.from(bytes, (b) => letters[b % letters.length]).join("");
}

const list = (text: string): string[] => text.split(",").map((s) => s.trim()).filter(Boolean);

export function render(root: HTMLElement): () => void {
  const roleFilter = h("select", { "data-testid": "filter-role" },
    h("option", { value: "" }, "any role"), ROLES.map(({ role }) => h("option", { value: role }, role)));
  const inactive = h("input", { type: "checkbox", "data-testid": "show-inactive" });
  const rows = h("tbody");
  const status = h("div", { class: "status", "data-testid": "users-status" });
  const editor = h("section", { class: "card user-editor", "data-testid": "user-editor" });
  const workCenters = h("datalist", { id: "work-centers" });

  async function refresh(): Promise<void> {
    try {
      const page = await get<Page<Account>>(`/users${query({
        role: roleFilter.value, active: inactive.checked ? null : true, limit: 500 })}`);
      clear(rows, page.items.map((account) => h("tr", { "data-username": account.username, class: account.active ? null : "muted",
        onclick: () => edit(account) },
        h("td", {}, h("a", { href: "javascript:void 0" }, account.username)), h("td", {}, account.full_name ?? "–"),
        h("td", {}, account.roles.join(", ") || "–"), h("td", {}, account.groups.join(", ") || "–"),
        h("td", {}, account.work_centers.join(", ") || "–"),
        h("td", {}, !account.active ? "inactive" : account.locked_at ? "locked" : account.must_change_password ? "one-time password" : "active"),
        h("td", {}, when(account.created_at)))));
      if (page.items.length === 0) rows.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No users.")));
    } catch (error) {
      notice(status, "error", errorText(error));
    }
  }

  function edit(account: Account | null): void {
    const fields = {
      username: h("input", { name: "username", value: account?.username ?? "", readonly: account !== null, autocomplete: "off" }),
      full_name: h("input", { name: "full_name", value: account?.full_name ?? "" }),
      groups: h("input", { name: "groups", value: account?.groups.join(", ") ?? "", placeholder: "supervisors, quality" }),
      work_centers: h("input", { name: "work_centers", value: account?.work_centers.join(", ") ?? "", list: "work-centers",
        placeholder: "Acme.Lyon.Pressing.PressLine" }),
      password: h("input", { name: "password", value: account ? "" : oneTimePassword(), autocomplete: "off" }),
    };
    const roles = ROLES.map(({ role, says }) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "roles", value: role, checked: account?.roles.includes(role) ?? false }),
      h("b", {}, role), h("small", { class: "muted" }, ` ${says}`)));
    const active = h("input", { type: "checkbox", name: "active", checked: account?.active ?? true });
    const errors: Record<string, HTMLElement> = {};
    const field = (key: string, label: string, input: HTMLElement): HTMLElement => {
      errors[key] = h("div", { class: "field-error", "data-error-for": key });
      return h("label", { class: "field" }, label, input, errors[key]);
    };
    errors.roles = h("div", { class: "field-error", "data-error-for": "roles" });
    const result = h("div", { class: "status", "data-testid": "user-result" });

    function showErrors(error: unknown): void {
      if (error instanceof ApiError && error.status === 422 && Array.isArray(error.detail)) {
        for (const item of error.detail as { loc?: (string | number)[]; msg?: string; type?: string }[]) {
          const key = String(item.loc?.[1] ?? "");
          const text = key === "username" && item.type === "string_pattern_mismatch"
            ? "letters, digits, '.', '_' and '-' only (no spaces), starting with a letter or digit" : item.msg ?? "invalid";
          (errors[key === "new_password" ? "password" : key] ?? errors.username).textContent = text;
        }
        notice(result, "error", "Please correct the marked fields.");
      } else {
        notice(result, "error", errorText(error));
      }
    }

    async function save(event: Event): Promise<void> {
      event.preventDefault();
      for (const element of Object.values(errors)) element.textContent = "";
      const chosen = roles.map((label) => label.querySelector("input")!).filter((i) => i.checked).map((i) => i.value);
      const common = { full_name: fields.full_name.value.trim() || null, roles: chosen,
        groups: list(fields.groups.value), work_centers: list(fields.work_centers.value) };
      try {
        if (account === null) {
          const password = fields.password.value;
          const created = await post<Account>("/users", { ...common, username: fields.username.value.trim(), password,
            must_change_password: true });
          await refresh();
          edit(created);
          notice(editorStatus(), "ok", `${created.username} created. One-time password: ${password} (they choose their own at the first sign-in)`);
        } else {
          const saved = await request<Account>("PATCH", `/users/${encodeURIComponent(account.username)}`,
            { ...common, active: active.checked });
          await refresh();
          edit(saved);
          notice(editorStatus(), "ok", `${saved.username} saved.`);
        }
      } catch (error) {
        showErrors(error);
      }
    }

    async function resetPassword(): Promise<void> {
      if (account === null) return;
      if (!window.confirm(`Reset the password of ${account.username}? Their current password stops working now.`)) return;
      const password = oneTimePassword();
      try {
        await post<Account>(`/users/${encodeURIComponent(account.username)}/password`, { new_password: password });
        await refresh();
        notice(result, "ok", `New one-time password for ${account.username}: ${password}`);
      } catch (error) {
        showErrors(error);
      }
    }

    async function unlock(): Promise<void> {
      if (account === null) return;
      try {
        const unlocked = await post<Account>(`/users/${encodeURIComponent(account.username)}/unlock`);
        await refresh();
        edit(unlocked);
        notice(editorStatus(), "ok", `${unlocked.username} unlocked: they may sign in again.`);
      } catch (error) {
        showErrors(error);
      }
    }

    const editorStatus = (): HTMLElement => editor.querySelector<HTMLElement>("[data-testid=user-result]")!;
    const form = h("form", { class: "task-form", "data-testid": "user-form" },
      h("h2", {}, account ? `User ${account.username}` : "New user"),
      field("username", "User name", fields.username),
      field("full_name", "Full name", fields.full_name),
      h("fieldset", {}, h("legend", {}, "Roles"), roles, errors.roles),
      field("groups", "Candidate groups (comma-separated)", fields.groups),
      field("work_centers", "Work centers (operators; comma-separated)", fields.work_centers),
      account ? h("label", { class: "check" }, active, "active (may sign in)")
        : field("password", "One-time password (hand it over; they choose their own at the first sign-in)", fields.password),
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "primary" }, account ? "Save" : "Create user"),
        account ? h("button", { type: "button", "data-testid": "reset-password", onclick: () => void resetPassword() },
          "Reset password") : null,
        account?.locked_at ? h("button", { type: "button", "data-testid": "unlock-user", onclick: () => void unlock() },
          "Unlock") : null,
        h("button", { type: "button", onclick: () => clear(editor, h("p", { class: "muted" }, "Choose a user, or add one.")) },
          "Close")),
      result);
    form.addEventListener("submit", (event) => void save(event));
    clear(editor, form);
    fields[account ? "full_name" : "username"].focus();
  }

  async function loadWorkCenters(): Promise<void> {
    try {
      const page = await get<Page<{ path: string }>>(`/equipment${query({ level: "work_center", limit: 500 })}`);
      clear(workCenters, page.items.map((item) => h("option", { value: item.path })));
    } catch {
      // the list only helps typing; the field takes any path
    }
  }

  for (const input of [roleFilter, inactive]) input.addEventListener("change", () => void refresh());
  clear(root,
    h("div", { class: "toolbar" }, roleFilter, h("label", { class: "check" }, inactive, "show inactive"),
      h("span", { class: "spacer" }), h("button", { class: "primary", "data-testid": "new-user", onclick: () => edit(null) }, "New user")),
    status,
    h("div", { class: "users" },
      h("table", { class: "grid", "data-testid": "users" },
        h("thead", {}, h("tr", {}, ["User", "Name", "Roles", "Groups", "Work centers", "Status", "Created"].map((c) => h("th", {}, c)))),
        rows),
      editor),
    workCenters);
  clear(editor, h("p", { class: "muted" }, "Choose a user, or add one."));
  void refresh();
  void loadWorkCenters();
  return () => undefined;
}
