/**
 * Audit trail (engineers, supervisors): who did what, when, why and on which version — every deploy,
 * approval, task completion, order change, migration and machine command, newest first, filterable
 * by entity, actor, action and time; and the verification of the hash chain, naming the first entry
 * that was edited, deleted or inserted. ``#/audit/ENTITY_TYPE/ENTITY_ID`` opens one entity's trail.
 */

import { get, query } from "../api";
import { h, clear, notice, when, errorText } from "../dom";
import type { Page } from "../types";

interface Entry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string;
  reason: string | null;
  details: Record<string, unknown>;
}

interface Verification {
  intact: boolean;
  head_seq: number;
  head_hash: string;
  first_break: { seq: number; kind: string; message: string } | null;
}

const PAGE_SIZE = 50;

/** A local date-time input's value as an ISO instant (the API compares in UTC), or null. */
function instant(input: HTMLInputElement): string | null {
  return input.value ? new Date(input.value).toISOString() : null;
}

function details(values: Record<string, unknown>): HTMLElement | string {
  const keys = Object.keys(values);
  if (keys.length === 0) return "";
  const short = keys.slice(0, 3).map((k) => `${k}: ${JSON.stringify(values[k])}`).join(", ");
  return h("details", {}, h("summary", {}, short.length > 90 ? `${short.slice(0, 90)}…` : short),
    h("pre", {}, JSON.stringify(values, null, 2)));
}

export function render(root: HTMLElement, args: string[]): void {
  const input = (name: string, placeholder: string, value = ""): HTMLInputElement =>
    h("input", { name, placeholder, value, "data-testid": `audit-${name}` });
  const filters = {
    entity_type: input("entity_type", "entity type (production order ...)", args[0] ?? ""),
    entity_id: input("entity_id", "entity id (PO-1 ...)", args[1] ?? ""),
    actor: input("actor", "who"),
    action: input("action", "action (task.completed ...)"),
  };
  const since = h("input", { type: "datetime-local", "data-testid": "audit-since", title: "at or after" });
  const until = h("input", { type: "datetime-local", "data-testid": "audit-until", title: "before" });
  const rows = h("tbody");
  const status = h("div", { class: "status" });
  const chain = h("div", { class: "status", "data-testid": "audit-chain" });
  const position = h("span", { class: "muted", "data-testid": "audit-position" });
  const older = h("button", { onclick: () => { offset += PAGE_SIZE; void refresh(); } }, "Older");
  const newer = h("button", { onclick: () => { offset = Math.max(0, offset - PAGE_SIZE); void refresh(); } }, "Newer");
  let offset = 0;

  async function refresh(): Promise<void> {
    try {
      const page = await get<Page<Entry>>(`/audit${query({
        entity_type: filters.entity_type.value.trim(), entity_id: filters.entity_id.value.trim(),
        actor: filters.actor.value.trim(), action: filters.action.value.trim(),
        since: instant(since), until: instant(until), offset, limit: PAGE_SIZE })}`);
      clear(rows, page.items.map((entry) => h("tr", { "data-seq": entry.seq },
        h("td", { class: "number" }, String(entry.seq)), h("td", {}, when(entry.at)), h("td", {}, entry.actor),
        h("td", {}, entry.action), h("td", {}, `${entry.entity_type} ${entry.entity_id}`),
        h("td", { "data-testid": "audit-reason" }, entry.reason ?? ""), h("td", {}, details(entry.details)))));
      if (page.items.length === 0) rows.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No entries.")));
      position.textContent = page.total
        ? `${offset + 1}–${offset + page.items.length} of ${page.total}` : "";
      older.disabled = offset + page.items.length >= page.total;
      newer.disabled = offset === 0;
      status.replaceChildren();
    } catch (error) {
      notice(status, "error", errorText(error));
    }
  }

  async function verify(): Promise<void> {
    notice(chain, "info", "Recomputing the chain…");
    try {
      const result = await get<Verification>("/audit/verify");
      if (result.intact) {
        notice(chain, "ok", `Chain intact: ${result.head_seq} entries; last hash ${result.head_hash.slice(0, 16)}… `
          + "(keep it outside the database to anchor the chain)");
      } else {
        const broken = result.first_break!;
        notice(chain, "error", `Chain broken at entry ${broken.seq} (${broken.kind}): ${broken.message}`);
      }
    } catch (error) {
      notice(chain, "error", errorText(error));
    }
  }

  const search = (): void => { offset = 0; void refresh(); };
  for (const field of Object.values(filters)) field.addEventListener("keydown", (e) => { if (e.key === "Enter") search(); });
  for (const field of [since, until]) field.addEventListener("change", search);
  clear(root,
    h("div", { class: "toolbar" }, Object.values(filters), h("label", { class: "check" }, "from", since), h("label", { class: "check" }, "to", until),
      h("button", { class: "primary", "data-testid": "audit-search", onclick: search }, "Search"),
      h("span", { class: "spacer" }),
      h("button", { "data-testid": "audit-verify", onclick: () => void verify() }, "Verify chain")),
    chain, status,
    h("table", { class: "grid compact", "data-testid": "audit" },
      h("thead", {}, h("tr", {}, ["#", "When", "Who", "Action", "Entity", "Why", "Details"].map((c) => h("th", {}, c)))),
      rows),
    h("div", { class: "toolbar" }, newer, older, position));
  void refresh();
}
