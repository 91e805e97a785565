/**
 * Orders (supervisors act, engineers read): the production orders from ERP, each with its job
 * orders per operation and the processes that ran on it. A supervisor starts production (process
 * production_order), requests a quantity change (process demand_change: replan, impact on the
 * plan, approval by another supervisor in the inbox) or cancels an order that has not started.
 */

import { ApiError, get, post, query } from "../api";
import { h, clear, notice, when, errorText, fact } from "../dom";
import { hasRole } from "../session";
import type { Instance, Page } from "../types";

interface JobOrder {
  sequence: number;
  operation: string;
  status: string;
  quantity: string;
  good_quantity: string;
  scrap_quantity: string;
  work_center_id: number | null;
  work_unit_id: number | null;
  planned_start: string | null;
  planned_end: string | null;
}

interface Order {
  order_number: string;
  product_code: string;
  revision: string | null;
  quantity: string;
  unit: string;
  status: string;
  priority: number;
  due_at: string | null;
  source: string;
  job_orders: JobOrder[];
}

const STATUSES = ["", "received", "released", "in_progress", "held", "completed", "closed", "cancelled", "aborted"];
const OPEN = ["received", "released", "in_progress", "held"];
const PRODUCTION = "production_order";
const QUANTITY_CHANGE = "demand_change";

export function render(root: HTMLElement, args: string[]): () => void {
  const status = h("select", { "data-testid": "filter-order-status" },
    STATUSES.map((s) => h("option", { value: s }, s ? s.replace("_", " ") : "any status")));
  const product = h("input", { placeholder: "product code", "data-testid": "filter-product" });
  const rows = h("tbody");
  const listStatus = h("div", { class: "status" });
  const detail = h("section", { class: "order-detail", "data-testid": "order-detail" });
  const names = new Map<number, string>();
  let chosen = args[0] ?? null;

  async function refresh(): Promise<void> {
    try {
      const page = await get<Page<Order>>(`/orders${query({ status: status.value, product_code: product.value.trim(), limit: 200 })}`);
      clear(rows, page.items.map((order) => h("tr", {
        "data-order": order.order_number, class: order.order_number === chosen ? "highlight" : null,
        onclick: () => { location.hash = `#/orders/${encodeURIComponent(order.order_number)}`; } },
      h("td", {}, h("a", { href: `#/orders/${encodeURIComponent(order.order_number)}` }, order.order_number)),
      h("td", {}, `${order.product_code}${order.revision ? ` rev ${order.revision}` : ""}`),
      h("td", { class: "number" }, `${order.quantity} ${order.unit}`),
      h("td", {}, h("span", { class: `badge ${order.status}` }, order.status.replace("_", " "))),
      h("td", {}, String(order.priority)), h("td", {}, when(order.due_at)),
      h("td", {}, progress(order)))));
      if (page.items.length === 0) rows.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No orders.")));
    } catch (error) {
      notice(listStatus, "error", errorText(error));
    }
  }

  function progress(order: Order): string {
    const done = order.job_orders.filter((j) => j.status === "completed").length;
    return `${done} of ${order.job_orders.length} operations done`;
  }

  async function loadNames(): Promise<void> {
    try {
      const page = await get<Page<{ id: number; name: string }>>("/equipment?limit=500");
      for (const item of page.items) names.set(item.id, item.name);
    } catch {
      // ids are shown instead
    }
  }

  async function show(number: string): Promise<void> {
    let order: Order;
    let instances: Instance[];
    try {
      order = await get<Order>(`/orders/${encodeURIComponent(number)}`);
      const [own, changes] = await Promise.all([
        get<Page<Instance>>(`/instances${query({ business_key: number, limit: 50 })}`),
        get<Page<Instance>>(`/instances${query({ business_key_prefix: `${number}:`, limit: 50 })}`),
      ]);
      instances = [...own.items, ...changes.items];
    } catch (error) {
      clear(detail, h("div", { class: "notice error", role: "alert" }, errorText(error)));
      return;
    }
    const result = h("div", { class: "status", "data-testid": "order-result" });
    const place = (id: number | null): string => (id === null ? "–" : names.get(id) ?? `#${id}`);
    const jobs = h("table", { class: "grid compact", "data-testid": "job-orders" },
      h("thead", {}, h("tr", {}, ["#", "Operation", "Work center", "Machine", "Status", "Quantity", "Good", "Scrap",
        "Planned"].map((c) => h("th", {}, c)))),
      h("tbody", {}, order.job_orders.map((job) => h("tr", { "data-sequence": job.sequence },
        h("td", {}, String(job.sequence)), h("td", {}, job.operation), h("td", {}, place(job.work_center_id)),
        h("td", {}, place(job.work_unit_id)), h("td", {}, h("span", { class: `badge ${job.status}` }, job.status)),
        h("td", { class: "number" }, job.quantity), h("td", { class: "number" }, job.good_quantity),
        h("td", { class: "number" }, job.scrap_quantity),
        h("td", {}, job.planned_start ? `${when(job.planned_start)} – ${when(job.planned_end)}` : "–")))));
    const processes = instances.length
      ? h("ul", { class: "order-processes", "data-testid": "order-processes" }, instances.map((i) => h("li", {},
        h("a", { href: `#/instances/${encodeURIComponent(i.workflow_id)}` }, `${i.process_id} v${i.version}`), " ",
        h("span", { class: `badge ${i.status}` }, i.status), h("small", { class: "muted" },
          ` started ${when(i.started_at)} by ${i.started_by ?? "–"}`))))
      : h("p", { class: "muted", "data-testid": "order-processes" }, "No process has run on this order yet.");
    clear(detail,
      h("h2", {}, `Order ${order.order_number} `, h("a", { class: "small", "data-testid": "order-audit",
        href: `#/audit/${encodeURIComponent("production order")}/${encodeURIComponent(order.order_number)}` }, "audit trail")),
      h("div", { class: "facts" },
        fact("Product", `${order.product_code}${order.revision ? ` rev ${order.revision}` : ""}`),
        fact("Quantity", `${order.quantity} ${order.unit}`), fact("Status", order.status.replace("_", " ")),
        fact("Due", when(order.due_at))),
      h("h3", {}, "Job orders"), jobs,
      h("h3", {}, "Processes"), processes,
      hasRole("supervisor") && OPEN.includes(order.status) ? actions(order, instances, result) : null,
      result);
  }

  function actions(order: Order, instances: Instance[], result: HTMLElement): HTMLElement {
    const number = order.order_number;
    const producing = instances.some((i) => i.process_id === PRODUCTION && ["running", "completed"].includes(i.status));
    const pendingChange = instances.some((i) => i.process_id === QUANTITY_CHANGE && i.status === "running");
    const newQuantity = h("input", { type: "number", min: "0", step: "any", name: "new_quantity", value: order.quantity,
      "data-testid": "new-quantity" });
    const reason = h("input", { name: "reason", placeholder: "why (ERP change, customer call ...)", "data-testid": "reason" });
    const done = async (what: string, call: () => Promise<unknown>): Promise<void> => {
      try {
        await call();
        await Promise.all([refresh(), show(number)]);
        notice(detail.querySelector<HTMLElement>("[data-testid=order-result]")!, "ok", what);
      } catch (error) {
        notice(result, "error", error instanceof ApiError && error.status === 404 && String(error.message).includes("process")
          ? `${errorText(error)} (an engineer deploys it in the Modeler)` : errorText(error));
      }
    };
    const requestChange = (): void => {
      const quantity = Number(newQuantity.value);
      if (!(quantity > 0)) { notice(result, "error", "new quantity: a positive amount"); return; }
      if (!reason.value.trim()) { notice(result, "error", "reason: say why the quantity changes"); return; }
      void done(`Quantity change to ${quantity} ${order.unit} requested: it waits for another supervisor's approval in the inbox.`,
        () => post<Instance>("/instances", { process_id: QUANTITY_CHANGE, business_key: `${number}:quantity-${Date.now().toString(36)}`,
          variables: { order_number: number, new_quantity: quantity, reason: reason.value.trim() } }));
    };
    const cancel = (): void => {
      if (!reason.value.trim()) { notice(result, "error", "reason: say why the order is cancelled"); return; }
      if (!window.confirm(`Cancel order ${number}? Its open job orders are cancelled with it.`)) return;
      void done(`Order ${number} cancelled.`, () => post<Order>(`/orders/${encodeURIComponent(number)}/cancel`, { reason: reason.value.trim() }));
    };
    return h("div", { class: "order-actions card", "data-testid": "order-actions" },
      h("h3", {}, "Act on the order"),
      producing || !["received", "released"].includes(order.status) ? null : h("button", { class: "primary", "data-testid": "start-production",
        onclick: () => void done(`Production of ${number} started.`, () => post<Instance>("/instances", {
          process_id: PRODUCTION, business_key: number, variables: { order_number: number } })) }, "Start production"),
      pendingChange ? h("p", { class: "muted", "data-testid": "change-pending" },
        "A quantity change waits for its approval (see Processes): one change at a time.")
        : h("label", {}, "New quantity", newQuantity),
      h("label", {}, "Reason", reason),
      h("div", { class: "actions" },
        pendingChange ? null
          : h("button", { "data-testid": "request-quantity-change", onclick: requestChange }, "Request quantity change"),
        ["received", "released", "held"].includes(order.status) && !instances.some((i) => i.process_id === PRODUCTION && i.status === "running")
          ? h("button", { class: "danger", "data-testid": "cancel-order", onclick: cancel }, "Cancel order") : null));
  }

  status.addEventListener("change", () => void refresh());
  product.addEventListener("keydown", (e) => { if (e.key === "Enter") void refresh(); });
  clear(root,
    h("div", { class: "toolbar" }, status, product, h("button", { onclick: () => void refresh() }, "Filter")),
    listStatus,
    h("table", { class: "grid", "data-testid": "orders" },
      h("thead", {}, h("tr", {}, ["Order", "Product", "Quantity", "Status", "Priority", "Due", "Progress"].map((c) => h("th", {}, c)))),
      rows),
    detail);
  void loadNames().then(() => (chosen ? show(chosen) : undefined));
  void refresh();
  const timer = window.setInterval(() => void refresh(), 10_000);
  return () => window.clearInterval(timer);
}
