/** A task's context (the zeebe:ioMapping inputs of its user task) as readable sections: a summary,
 * tables of the orders, lots, machines (with their live state) and recipes, and the schedule impact
 * as before/after bars. Understands the approval tasks of engineering_change (``impact`` from
 * changes.eco_impact) and demand_change (``impact``, ``orders``, ``schedule_before`` /
 * ``schedule_after``, ``plan_changes``); whatever else the context holds is listed as key/value pairs. */

import { get } from "./api";
import { svg } from "./charts";
import type { MachineState } from "./dashboard-types";
import { h, pairs } from "./dom";

type Row = Record<string, unknown>;

/** Keys shown elsewhere in the task view (the four-eyes notice, the "Requested by" fact). */
const SHOWN_ELSEWHERE = new Set(["four_eyes", "requested_by"]);
/** Keys a section below renders; the rest goes to "Other data". */
const CONSUMED = new Set(["eco_number", "product_code", "order_number", "new_quantity", "new_due_at", "impact",
  "orders", "lots", "machines", "plan_changes", "schedule_before", "schedule_after"]);

function record(value: unknown): Row | null {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? value as Row : null;
}

function rows(value: unknown): Row[] {
  return Array.isArray(value) ? value.map(record).filter((r): r is Row => r !== null) : [];
}

function num(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return null;
}

function text(value: unknown): string {
  if (value === null || value === undefined || value === "") return "–";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** Seconds as a short duration: "45 s", "12.5 min", "3.2 h". */
export function duration(seconds: number): string {
  const abs = Math.abs(seconds);
  const sign = seconds < 0 ? "−" : "";
  if (abs < 120) return `${sign}${Math.round(abs * 100) / 100} s`;
  if (abs < 7200) return `${sign}${Math.round(abs / 6) / 10} min`;
  return `${sign}${Math.round(abs / 360) / 10} h`;
}

function signed(seconds: number): string {
  return seconds > 0 ? `+${duration(seconds)}` : seconds < 0 ? duration(seconds) : "±0 s";
}

function unitName(path: unknown): string {
  const value = text(path);
  return value.split(".").pop() ?? value;
}

function section(title: string, testId: string, ...body: (Node | null)[]): HTMLElement {
  return h("section", { class: "context-section", "data-testid": testId }, h("h4", {}, title), ...body);
}

interface Column {
  title: string;
  cell(row: Row): string | Node;
  key?: string;
}

function table(columns: Column[], items: Row[], rowAttrs: (row: Row) => Record<string, string> = () => ({})): HTMLElement {
  return h("table", { class: "grid compact" },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c.title)))),
    h("tbody", {}, items.map((item) => h("tr", rowAttrs(item),
      columns.map((c) => h("td", c.key ? { "data-col": c.key } : {}, c.cell(item)))))));
}

function badge(label: string, kind: string, testId?: string): HTMLElement {
  return h("span", { class: `badge ${kind}`, "data-testid": testId }, label);
}

// --- summary ---------------------------------------------------------------------------------

function summary(context: Row, impact: Row | null): HTMLElement | null {
  const facts: [string, string | Node][] = [];
  if (context.eco_number !== undefined) facts.push(["Engineering change", text(context.eco_number)]);
  if (context.product_code !== undefined) facts.push(["Product", text(context.product_code)]);
  if (impact && (impact.from_revision !== undefined || impact.to_revision !== undefined)) {
    facts.push(["Revision", `${text(impact.from_revision)} → ${text(impact.to_revision)}`]);
  }
  if (impact && Array.isArray(impact.changed_operations)) {
    facts.push(["Operations changed", impact.changed_operations.map(text).join(", ") || "none"]);
  }
  if (impact && (Array.isArray(impact.bom_added) || Array.isArray(impact.bom_removed))) {
    const line = (v: unknown): string => Array.isArray(v) ? v.map(text).join(" ") : text(v);
    const added = Array.isArray(impact.bom_added) ? impact.bom_added.map((v) => `+ ${line(v)}`) : [];
    const removed = Array.isArray(impact.bom_removed) ? impact.bom_removed.map((v) => `− ${line(v)}`) : [];
    facts.push(["BOM", [...added, ...removed].join("; ") || "unchanged"]);
  }
  if (context.order_number !== undefined) facts.push(["Order", text(context.order_number)]);
  if (context.new_quantity !== undefined && context.new_quantity !== null) facts.push(["New quantity", text(context.new_quantity)]);
  if (context.new_due_at !== undefined && context.new_due_at !== null) facts.push(["New due date", text(context.new_due_at)]);
  if (impact && typeof impact.feasible === "boolean") {
    const late = num(impact.late_by_s);
    facts.push(["Due date", impact.feasible
      ? badge("feasible", "completed", "context-feasible")
      : badge(`late by ${duration(late ?? 0)}`, "failed", "context-feasible")]);
  }
  if (impact && num(impact.schedule_impact_s) !== null) {
    facts.push(["Schedule impact", signed(num(impact.schedule_impact_s) ?? 0)]);
  }
  if (facts.length === 0) return null;
  return section("Summary", "context-summary",
    h("div", { class: "facts" }, facts.map(([label, value]) => h("div", { class: "fact" }, h("span", {}, label), h("b", {}, value)))),
    impact && typeof impact.summary === "string" ? h("p", { class: "context-note" }, impact.summary) : null);
}

// --- orders and lots -------------------------------------------------------------------------

function ordersSection(context: Row, impact: Row | null): HTMLElement | null {
  const ecoOrders = rows(impact?.orders);
  if (ecoOrders.length) {
    return section("Orders", "context-orders", table([
      { title: "Order", key: "order", cell: (o) => text(o.order_number) },
      { title: "Status", cell: (o) => text(o.status) },
      { title: "Quantity", cell: (o) => text(o.quantity) },
      { title: "Current step", key: "step", cell: (o) => {
        const step = record(o.current_step);
        return step ? `${text(step.sequence)} ${text(step.operation)} (${text(step.status)})` : "all done";
      } },
      { title: "WIP lots", cell: (o) => String(rows(o.wip_lots).length) },
      { title: "Proposed", key: "proposed", cell: (o) => badge(text(o.proposed), "running") },
      { title: "Run time change", cell: (o) => signed(num(o.run_time_change_s) ?? 0) },
    ], ecoOrders, (o) => ({ "data-order": text(o.order_number) })));
  }
  const affected = rows(context.orders);
  if (!affected.length) return null;
  const changed = text(context.order_number);
  return section("Orders", "context-orders", table([
    { title: "Order", key: "order", cell: (o) => text(o.order_number) },
    { title: "Quantity", key: "quantity", cell: (o) => o.order_number === changed && context.new_quantity != null
      ? `${text(o.quantity)} → ${text(context.new_quantity)}` : text(o.quantity) },
    { title: "Due in", cell: (o) => num(o.due_s) === null ? "–" : duration(num(o.due_s) ?? 0) },
    { title: "Operations left", cell: (o) => text(o.operations_left) },
    { title: "", cell: (o) => o.order_number === changed ? badge("changed", "running") : "shares the work centers" },
  ], affected, (o) => ({ "data-order": text(o.order_number), class: o.order_number === changed ? "highlight" : "" })));
}

function lotsSection(context: Row, impact: Row | null): HTMLElement | null {
  const lots: Row[] = rows(context.lots);
  for (const order of rows(impact?.orders)) {
    for (const lot of rows(order.wip_lots)) lots.push({ order_number: order.order_number, ...lot });
  }
  if (!lots.length) {
    return impact?.orders !== undefined
      ? section("Lots", "context-lots", h("p", { class: "muted" }, "No work-in-progress lot is affected."))
      : null;
  }
  return section("Lots", "context-lots", table([
    { title: "Lot", key: "lot", cell: (l) => text(l.lot ?? l.lot_number) },
    { title: "Order", cell: (l) => text(l.order_number) },
    { title: "Made by operation", cell: (l) => text(l.operation) },
    { title: "Status", cell: (l) => badge(text(l.status), l.status === "on_hold" ? "failed" : "completed") },
    { title: "Quantity", cell: (l) => text(l.quantity) },
  ], lots, (l) => ({ "data-lot": text(l.lot ?? l.lot_number) })));
}

// --- machines --------------------------------------------------------------------------------

interface MachineRow {
  work_unit: string;
  name: string;
  operations: string[];
}

function machinesOf(context: Row, impact: Row | null, schedule: ScheduleRow[]): MachineRow[] {
  const found = new Map<string, MachineRow>();
  const add = (unit: unknown, name: unknown, operation: string | null): void => {
    const path = text(unit);
    if (path === "–") return;
    const entry = found.get(path) ?? { work_unit: path, name: name ? text(name) : unitName(path), operations: [] };
    if (operation && !entry.operations.includes(operation)) entry.operations.push(operation);
    found.set(path, entry);
  };
  for (const m of [...rows(impact?.machines), ...rows(context.machines)]) {
    add(m.work_unit, m.machine ?? m.name, m.operation === undefined ? null : `op ${text(m.operation)}`);
  }
  for (const r of schedule) {
    for (const bar of [r.before, r.after]) if (bar) add(bar.work_unit, null, `${r.job_order} · ${r.operation}`);
  }
  return [...found.values()];
}

function stateClass(state: string | null): string {
  const s = (state ?? "").toLowerCase();
  if (s === "execute") return "execute";
  if (["held", "suspended"].includes(s)) return "held";
  if (["stopped", "aborted", "aborting", "stopping"].includes(s)) return "stopped";
  if (s === "idle") return "idle";
  return s ? "transition" : "unknown";
}

function machinesSection(machines: MachineRow[]): HTMLElement | null {
  if (!machines.length) return null;
  const stateCells = new Map<string, HTMLElement>();
  const body = table([
    { title: "Machine", key: "machine", cell: (m) => text(m.name) },
    { title: "Work unit", cell: (m) => text(m.work_unit) },
    { title: "Concerned", cell: (m) => (m.operations as string[]).join(", ") || "–" },
    { title: "State now", key: "state", cell: (m) => {
      const cell = h("span", { class: "machine-state unknown" }, "…");
      stateCells.set(String(m.work_unit), cell);
      return cell;
    } },
  ], machines.map((m) => ({ ...m })), (m) => ({ "data-work-unit": String(m.work_unit) }));
  const note = h("p", { class: "muted context-note" }, "Live PackML state of each machine.");
  void (async () => {
    let states: MachineState[] = [];
    try {
      states = await get<MachineState[]>("/dashboards/machine-states");
    } catch {
      note.textContent = "The live machine states are not available to you.";
    }
    const byPath = new Map(states.map((s) => [s.work_unit, s]));
    for (const [path, cell] of stateCells) {
      const state = byPath.get(path);
      const label = state?.state ?? "unknown";
      cell.className = `machine-state ${stateClass(state?.state ?? null)}`;
      cell.textContent = state?.alarm ? `${label} ⚠ ${state.alarm}` : label;
      cell.closest("tr")?.setAttribute("data-state", label);
      if (state?.since) cell.title = `since ${new Date(state.since).toLocaleString()}`;
    }
  })();
  return section("Machines", "context-machines", body, note);
}

function recipesSection(impact: Row | null): HTMLElement | null {
  const recipes = rows(impact?.recipes);
  if (!recipes.length) return null;
  return section("Recipes", "context-recipes", table([
    { title: "Operation", cell: (r) => text(r.operation) },
    { title: "Recipe now", cell: (r) => text(r.from) },
    { title: "Recipe after the change", cell: (r) => text(r.to) },
  ], recipes));
}

// --- schedule impact -------------------------------------------------------------------------

interface Bar {
  work_unit: unknown;
  start: number;
  end: number;
}

interface ScheduleRow {
  job_order: string;
  operation: string;
  before: Bar | null;
  after: Bar | null;
}

function bar(value: unknown): Bar | null {
  const r = record(value);
  const start = num(r?.start), end = num(r?.end);
  return r && start !== null && end !== null ? { work_unit: r.work_unit, start, end } : null;
}

/** Rows of the before/after chart: the plans before and after (demand_change), else the plan changes. */
function scheduleRows(context: Row): ScheduleRow[] {
  const byKey = new Map<string, ScheduleRow>();
  const row = (op: Row): ScheduleRow => {
    const key = `${text(op.job_order)}\u0000${text(op.operation)}`;
    const found = byKey.get(key) ?? { job_order: text(op.job_order), operation: text(op.operation), before: null, after: null };
    byKey.set(key, found);
    return found;
  };
  const before = rows(context.schedule_before), after = rows(context.schedule_after);
  if (before.length || after.length) {
    for (const op of before) row(op).before = bar(op);
    for (const op of after) row(op).after = bar(op);
  } else {
    for (const change of rows(context.plan_changes)) {
      const r = row(change);
      r.before = bar(change.before);
      r.after = bar(change.after);
    }
  }
  const same = (a: Bar | null, b: Bar | null): boolean =>
    a !== null && b !== null && a.start === b.start && a.end === b.end && a.work_unit === b.work_unit;
  const changed = text(context.order_number);
  return [...byKey.values()]
    .filter((r) => r.job_order === changed || !same(r.before, r.after))
    .sort((a, b) => (a.job_order === changed ? 0 : 1) - (b.job_order === changed ? 0 : 1)
      || (a.after?.start ?? a.before?.start ?? 0) - (b.after?.start ?? b.before?.start ?? 0))
    .slice(0, 16);
}

function scheduleChart(items: ScheduleRow[], impact: Row | null, changed: string): SVGSVGElement {
  const rowH = 30, left = 190, width = 820, right = 20, top = 30;
  const due = num(impact?.due_s);
  const ends = items.flatMap((r) => [r.before?.end ?? 0, r.after?.end ?? 0]);
  const starts = items.flatMap((r) => [r.before?.start, r.after?.start]).filter((v): v is number => v !== undefined);
  const t0 = Math.min(0, ...starts);
  const t1 = Math.max(1, ...ends, due ?? 0);
  const scale = (width - left - right) / (t1 - t0);
  const x = (t: number): number => left + (t - t0) * scale;
  const height = top + items.length * rowH + 26;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "impact-gantt", role: "img",
    "aria-label": `schedule before and after the change, ${items.length} operations`, "data-testid": "schedule-gantt" });
  chart.append(
    svg("rect", { x: left, y: 6, width: 14, height: 8, class: "before" }),
    svg("text", { x: left + 18, y: 14, class: "legend" }, "before"),
    svg("rect", { x: left + 80, y: 6, width: 14, height: 8, class: "after" }),
    svg("text", { x: left + 98, y: 14, class: "legend" }, "after the change"));
  const steps = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400];
  const step = steps.find((s) => (t1 - t0) / s <= 6) ?? 86400;
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    chart.append(svg("line", { x1: x(t), x2: x(t), y1: top - 4, y2: height - 22, class: "grid" }),
      svg("text", { x: x(t), y: height - 8, class: "tick", "text-anchor": "middle" }, t === 0 ? "now" : `+${duration(t)}`));
  }
  items.forEach((r, i) => {
    const y = top + i * rowH;
    const unit = unitName((r.after ?? r.before)?.work_unit);
    const group = svg("g", { class: r.job_order === changed ? "impact-row changed" : "impact-row",
      "data-testid": "schedule-row", "data-job-order": r.job_order, "data-operation": r.operation });
    group.append(svg("rect", { x: 0, y, width, height: rowH, class: i % 2 ? "lane odd" : "lane" }),
      svg("text", { x: 8, y: y + rowH / 2 + 4, class: "unit" }, `${r.job_order} · ${r.operation} · ${unit}`));
    const draw = (b: Bar | null, kind: "before" | "after", dy: number): void => {
      if (!b) return;
      const rect = svg("rect", { x: x(b.start), y: y + dy, width: Math.max(2, (b.end - b.start) * scale), height: 10,
        rx: 2, class: kind, "data-start": b.start, "data-end": b.end });
      rect.append(svg("title", {}, `${kind}: +${duration(b.start)} – +${duration(b.end)} on ${unitName(b.work_unit)}`));
      group.append(rect);
    };
    draw(r.before, "before", 4);
    draw(r.after, "after", 16);
    if (!r.after) group.append(svg("text", { x: x(r.before?.end ?? 0) + 4, y: y + 26, class: "legend" }, "removed"));
    chart.append(group);
  });
  if (due !== null) {
    chart.append(svg("line", { x1: x(due), x2: x(due), y1: top - 6, y2: height - 22, class: "due", "data-testid": "due-line" }),
      svg("text", { x: x(due) - 3, y: top - 8, class: "due-label", "text-anchor": "end" }, `due +${duration(due)}`));
  }
  return chart;
}

/** engineering_change: the remaining run time each order gains or loses with the new routing. */
function runTimeChart(orders: Row[]): SVGSVGElement {
  const rowH = 24, left = 190, width = 820, top = 8;
  const deltas = orders.map((o) => num(o.run_time_change_s) ?? 0);
  const most = Math.max(1e-9, ...deltas.map(Math.abs));
  const mid = left + (width - left) / 2;
  const half = (width - left) / 2 - 70;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${top + orders.length * rowH + 8}`, class: "impact-gantt",
    role: "img", "aria-label": "run time change per order", "data-testid": "schedule-gantt" });
  chart.append(svg("line", { x1: mid, x2: mid, y1: 2, y2: top + orders.length * rowH + 4, class: "grid" }));
  orders.forEach((o, i) => {
    const y = top + i * rowH, d = deltas[i], w = Math.max(2, Math.abs(d) / most * half);
    const group = svg("g", { class: "impact-row", "data-testid": "schedule-row", "data-job-order": text(o.order_number) });
    group.append(svg("text", { x: 8, y: y + rowH / 2 + 4, class: "unit" }, text(o.order_number)),
      svg("rect", { x: d >= 0 ? mid : mid - w, y: y + 5, width: w, height: rowH - 10, rx: 2,
        class: d > 0 ? "after later" : d < 0 ? "after earlier" : "before", "data-delta": d }),
      svg("text", { x: d >= 0 ? mid + w + 4 : mid - w - 4, y: y + rowH / 2 + 4, class: "legend",
        "text-anchor": d >= 0 ? "start" : "end" }, signed(d)));
    chart.append(group);
  });
  return chart;
}

function scheduleSection(context: Row, impact: Row | null, items: ScheduleRow[]): HTMLElement | null {
  if (items.length) {
    const before = num(impact?.finish_before_s), after = num(impact?.finish_after_s);
    return section("Schedule impact", "context-schedule",
      before !== null && after !== null
        ? h("p", { class: "context-note" }, `${text(context.order_number)} finishes at +${duration(after)} instead of +${duration(before)} `,
          badge(signed(after - before), after > before ? "failed" : "completed", "finish-shift"))
        : null,
      scheduleChart(items, impact, text(context.order_number)));
  }
  const orders = rows(impact?.orders);
  if (orders.length && orders.some((o) => o.run_time_change_s !== undefined)) {
    return section("Schedule impact", "context-schedule",
      h("p", { class: "context-note" }, "Remaining run time of each order with the new routing (before → after): ",
        badge(signed(num(impact?.schedule_impact_s) ?? 0), (num(impact?.schedule_impact_s) ?? 0) > 0 ? "failed" : "completed", "finish-shift")),
      runTimeChart(orders));
  }
  return null;
}

// --- the whole context -----------------------------------------------------------------------

export function taskContext(context: Record<string, unknown>): HTMLElement {
  const impact = record(context.impact);
  const schedule = scheduleRows(context);
  const sections = [
    summary(context, impact),
    ordersSection(context, impact),
    lotsSection(context, impact),
    machinesSection(machinesOf(context, impact, schedule)),
    recipesSection(impact),
    scheduleSection(context, impact, schedule),
  ].filter((s): s is HTMLElement => s !== null);
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if (SHOWN_ELSEWHERE.has(key) || (sections.length > 0 && CONSUMED.has(key))) continue;
    rest[key] = value;
  }
  if (impact) {  // what the impact holds beyond the sections above
    const known = new Set(["orders", "machines", "recipes", "changed_operations", "bom_added", "bom_removed",
      "schedule_impact_s", "from_revision", "to_revision", "feasible", "late_by_s", "finish_before_s",
      "finish_after_s", "due_s", "other_orders", "summary", "product", "recipe_pushes"]);
    for (const [key, value] of Object.entries(impact)) if (!known.has(key)) rest[`impact.${key}`] = value;
  }
  const other = Object.keys(rest).length || sections.length === 0
    ? section(sections.length ? "Other data" : "Data", "context-other", pairs(rest)) : null;
  return h("div", { class: "task-context", "data-testid": "task-context" }, ...sections, other);
}
