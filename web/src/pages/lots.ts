/**
 * Lots (supervisors act, engineers read): material lots and their genealogy both ways — what went
 * into a lot (down to the raw materials) and what was made from it (the scope of a recall), with the
 * operation, machine, person and time of each link. A supervisor holds or releases a lot, or puts a
 * suspect lot and every available lot made from it on hold at once (recall hold), always with a reason.
 */

import { get, post, query } from "../api";
import { h, clear, notice, when, errorText, fact } from "../dom";
import { hasRole } from "../session";
import type { Page } from "../types";

interface Lot {
  lot_number: string;
  material_code: string;
  status: string;
  quantity: string;
  unit: string;
  created_at: string;
  sublots: { sublot_number: string; status: string; quantity: string; unit: string }[];
}

interface Step {
  depth: number;
  consumed_lot: string;
  produced_lot: string;
  quantity: string;
  unit: string;
  operation: string | null;
  work_unit_id: number | null;
  performed_by: string;
  at: string;
}

const STATUSES = ["", "available", "on_hold", "consumed", "scrapped"];
const lotLink = (number: string): HTMLElement => h("a", { href: `#/lots/${encodeURIComponent(number)}` }, number);

export function render(root: HTMLElement, args: string[]): () => void {
  const lotNumber = h("input", { placeholder: "lot number (scan or type, Enter)", "data-testid": "lot-search" });
  const material = h("input", { placeholder: "material code", "data-testid": "filter-material" });
  const status = h("select", { "data-testid": "filter-lot-status" },
    STATUSES.map((s) => h("option", { value: s }, s ? s.replace("_", " ") : "any status")));
  const rows = h("tbody");
  const listStatus = h("div", { class: "status" });
  const detail = h("section", { class: "lot-detail", "data-testid": "lot-detail" });
  const machines = new Map<number, string>();

  async function refresh(): Promise<void> {
    try {
      const page = await get<Page<Lot>>(`/lots${query({ material_code: material.value.trim(), status: status.value, limit: 100 })}`);
      clear(rows, page.items.map((lot) => h("tr", { "data-lot": lot.lot_number, class: lot.lot_number === args[0] ? "highlight" : null },
        h("td", {}, lotLink(lot.lot_number)), h("td", {}, lot.material_code),
        h("td", { class: "number" }, `${lot.quantity} ${lot.unit}`),
        h("td", {}, h("span", { class: `badge ${lot.status}` }, lot.status.replace("_", " "))), h("td", {}, when(lot.created_at)))));
      if (page.items.length === 0) rows.append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No lots.")));
    } catch (error) {
      notice(listStatus, "error", errorText(error));
    }
  }

  function trace(steps: Step[], direction: "backward" | "forward", testId: string): HTMLElement {
    if (steps.length === 0) {
      return h("p", { class: "muted", "data-testid": testId }, direction === "backward" ? "Nothing recorded went into it." : "Nothing made from it yet.");
    }
    return h("table", { class: "grid compact", "data-testid": testId },
      h("thead", {}, h("tr", {}, ["Level", direction === "backward" ? "Lot that went in" : "Lot made from it",
        direction === "backward" ? "into" : "from", "Quantity", "Operation", "Machine", "By", "When"].map((c) => h("th", {}, c)))),
      h("tbody", {}, steps.map((step) => {
        const [near, far] = direction === "backward" ? [step.consumed_lot, step.produced_lot] : [step.produced_lot, step.consumed_lot];
        return h("tr", { "data-depth": step.depth },
          h("td", {}, String(step.depth)), h("td", { style: `padding-left: ${0.5 + (step.depth - 1) * 1.2}rem` }, lotLink(near)),
          h("td", {}, lotLink(far)), h("td", { class: "number" }, `${step.quantity} ${step.unit}`), h("td", {}, step.operation ?? "–"),
          h("td", {}, step.work_unit_id === null ? "–" : machines.get(step.work_unit_id) ?? `#${step.work_unit_id}`),
          h("td", {}, step.performed_by), h("td", {}, when(step.at)));
      })));
  }

  async function show(number: string): Promise<void> {
    let lot: Lot;
    let backward: Page<Step>;
    let forward: Page<Step>;
    try {
      [lot, backward, forward] = await Promise.all([
        get<Lot>(`/lots/${encodeURIComponent(number)}`),
        get<Page<Step>>(`/lots/${encodeURIComponent(number)}/genealogy?direction=backward&limit=500`),
        get<Page<Step>>(`/lots/${encodeURIComponent(number)}/genealogy?direction=forward&limit=500`),
      ]);
    } catch (error) {
      clear(detail, h("div", { class: "notice error", role: "alert" }, errorText(error)));
      return;
    }
    const result = h("div", { class: "status", "data-testid": "lot-result" });
    clear(detail,
      h("h2", {}, `Lot ${lot.lot_number} `, h("a", { class: "small", "data-testid": "lot-audit",
        href: `#/audit/lot/${encodeURIComponent(lot.lot_number)}` }, "audit trail")),
      h("div", { class: "facts" },
        fact("Material", lot.material_code), fact("Quantity", `${lot.quantity} ${lot.unit}`),
        fact("Status", lot.status.replace("_", " ")), fact("Created", when(lot.created_at))),
      lot.sublots.length ? h("p", {}, "Sublots: ", lot.sublots.map((s) => `${s.sublot_number} (${s.quantity} ${s.unit}, ${s.status})`).join(", ")) : null,
      h("h3", {}, `What went in (${backward.total})`), trace(backward.items, "backward", "trace-backward"),
      h("h3", {}, `Made from it (${forward.total})`), trace(forward.items, "forward", "trace-forward"),
      hasRole("supervisor") ? actions(lot, forward.total, result) : null,
      result);
  }

  function actions(lot: Lot, madeFrom: number, result: HTMLElement): HTMLElement {
    const number = encodeURIComponent(lot.lot_number);
    const reason = h("input", { name: "reason", placeholder: "why (supplier recall, failed inspection ...)", "data-testid": "lot-reason" });
    const act = async (call: () => Promise<string>): Promise<void> => {
      if (reason.value.trim().length < 2) { notice(result, "error", "reason: say why"); return; }
      try {
        const said = await call();
        await Promise.all([refresh(), show(lot.lot_number)]);
        notice(detail.querySelector<HTMLElement>("[data-testid=lot-result]")!, "ok", said);
      } catch (error) {
        notice(result, "error", errorText(error));
      }
    };
    const recall = (): void => {
      if (reason.value.trim().length >= 2
        && !window.confirm(`Hold ${lot.lot_number} and every available lot made from it (${madeFrom} links)?`)) return;
      void act(async () => {
        const done = await post<{ held: string[]; left: Record<string, string> }>(`/lots/${number}/recall-hold`, { reason: reason.value.trim() });
        const left = Object.entries(done.left).map(([lotNumber, state]) => `${lotNumber} ${state.replace("_", " ")}`);
        return `Put on hold: ${done.held.join(", ") || "none"}.${left.length ? ` Not held: ${left.join(", ")}.` : ""}`;
      });
    };
    return h("div", { class: "order-actions card", "data-testid": "lot-actions" },
      h("h3", {}, "Act on the lot"),
      h("label", {}, "Reason", reason),
      h("div", { class: "actions" },
        lot.status === "available" ? h("button", { "data-testid": "hold-lot", onclick: () => void act(async () => {
          await post(`/lots/${number}/hold`, { reason: reason.value.trim() });
          return `${lot.lot_number} is on hold.`;
        }) }, "Hold") : null,
        lot.status === "on_hold" ? h("button", { "data-testid": "release-lot", onclick: () => void act(async () => {
          await post(`/lots/${number}/release`, { reason: reason.value.trim() });
          return `${lot.lot_number} is available again.`;
        }) }, "Release") : null,
        madeFrom > 0 || lot.status === "available"
          ? h("button", { class: "danger", "data-testid": "recall-hold", onclick: recall }, "Recall hold: it and all made from it")
          : null));
  }

  async function loadMachines(): Promise<void> {
    try {
      const page = await get<Page<{ id: number; name: string }>>("/equipment?level=work_unit&limit=500");
      for (const item of page.items) machines.set(item.id, item.name);
    } catch {
      // ids are shown instead
    }
  }

  lotNumber.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && lotNumber.value.trim()) location.hash = `#/lots/${encodeURIComponent(lotNumber.value.trim())}`;
  });
  material.addEventListener("keydown", (e) => { if (e.key === "Enter") void refresh(); });
  status.addEventListener("change", () => void refresh());
  clear(root,
    h("div", { class: "toolbar" }, lotNumber, material, status, h("button", { onclick: () => void refresh() }, "Filter")),
    listStatus,
    h("div", { class: "lots" },
      h("table", { class: "grid", "data-testid": "lots" },
        h("thead", {}, h("tr", {}, ["Lot", "Material", "Quantity", "Status", "Created"].map((c) => h("th", {}, c)))), rows),
      detail));
  void loadMachines().then(() => (args[0] ? show(args[0]) : undefined));
  void refresh();
  const timer = window.setInterval(() => void refresh(), 15_000);
  return () => window.clearInterval(timer);
}
