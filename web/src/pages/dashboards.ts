/**
 * Dashboards (supervisors, engineers): machine states live (tiles coloured by PackML state), OEE
 * per work unit and shift as bars, the open job orders planned now as a Gantt chart, and the
 * production orders in progress as progress bars. Pictures, not tables.
 */

import { get, query } from "../api";
import { ganttChart, oeeBars } from "../charts";
import type { MachineState, OeeFigures, OrderProgress, Schedule } from "../dashboard-types";
import "../dashboards.css";
import { h, clear, notice, when, errorText } from "../dom";

const STATES_MS = 3000;
const ORDERS_MS = 10000;

/** PackML states grouped by what a supervisor should feel when seeing them. */
export function stateClass(state: string | null): string {
  switch (state) {
    case "Execute": return "execute";
    case "Idle": case "Complete": return "idle";
    case "Starting": case "Resetting": case "Completing": case "Unholding": case "Unsuspending": case "Clearing":
      return "transition";
    case "Held": case "Holding": case "Suspended": case "Suspending": return "held";
    case "Stopped": case "Stopping": case "Aborted": case "Aborting": return "stopped";
    default: return "unknown";
  }
}

function since(at: string | null): string {
  if (!at) return "no state reported yet";
  const seconds = Math.max(0, Math.round((Date.now() - new Date(at).getTime()) / 1000));
  if (seconds < 90) return `for ${seconds} s`;
  if (seconds < 5400) return `for ${Math.round(seconds / 60)} min`;
  return `since ${when(at)}`;
}

function localDate(at: Date): string {
  return `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, "0")}-${String(at.getDate()).padStart(2, "0")}`;
}

export function render(root: HTMLElement): () => void {
  const tiles = h("div", { class: "tiles", "data-testid": "machine-tiles" });
  const statesMessage = h("div", { class: "status" });
  const oeeBox = h("div", { class: "chart-box" });
  const shiftDate = h("input", { type: "date", value: localDate(new Date()), "data-testid": "oee-date" });
  const ganttBox = h("div", { class: "chart-box gantt-box" });
  const ganttInfo = h("span", { class: "muted", "data-testid": "gantt-info" });
  const replan = h("button", { "data-testid": "replan" }, "Plan again");
  const ordersBox = h("div", { class: "orders", "data-testid": "orders" });
  let names: Record<string, string> = {};
  let stopped = false;
  const timers: number[] = [];

  async function loadStates(): Promise<void> {
    try {
      const units = await get<MachineState[]>("/dashboards/machine-states");
      if (stopped) return;
      names = Object.fromEntries(units.map((u) => [u.work_unit, u.name]));
      clear(statesMessage);
      clear(tiles, units.length === 0 ? h("p", { class: "muted" }, "No work units are set up.") : units.map((u) =>
        h("div", { class: `tile ${stateClass(u.state)}${u.alarm ? " alarm" : ""}`, "data-testid": "machine-tile",
          "data-work-unit": u.work_unit, "data-state": u.state ?? "", title: u.work_unit },
        h("div", { class: "tile-name" }, u.name),
        h("div", { class: "tile-center" }, u.work_center ?? ""),
        h("div", { class: "tile-state" }, u.state ?? "unknown"),
        h("div", { class: "tile-since" }, since(u.since)),
        u.alarm ? h("div", { class: "tile-alarm", "data-testid": "tile-alarm" }, `⚠ ${u.alarm}`) : null,
        u.good_count !== null || u.bad_count !== null
          ? h("div", { class: "tile-counts" }, `good ${u.good_count ?? 0} · bad ${u.bad_count ?? 0}`) : null)));
    } catch (error) {
      notice(statesMessage, "error", `Machine states: ${errorText(error)}`);
    }
  }

  async function loadOee(): Promise<void> {
    try {
      const figures = await get<OeeFigures[]>(`/dashboards/oee${query({ shift_date: shiftDate.value })}`);
      if (stopped) return;
      clear(oeeBox, figures.length === 0
        ? h("p", { class: "muted", "data-testid": "oee-empty" }, `No shift begins on ${shiftDate.value} for a work unit with a calendar.`)
        : oeeBars(figures));
    } catch (error) {
      notice(oeeBox, "error", `OEE: ${errorText(error)}`);
    }
  }

  async function loadSchedule(): Promise<void> {
    replan.disabled = true;
    ganttInfo.textContent = "planning…";
    try {
      const plan = await get<Schedule>("/dashboards/schedule");
      if (stopped) return;
      if (plan.bars.length === 0) {
        clear(ganttBox, h("p", { class: "muted", "data-testid": "gantt-empty" }, "No open job orders to plan."));
        ganttInfo.textContent = "";
      } else {
        clear(ganttBox, ganttChart(plan, names));
        ganttInfo.textContent = `planned ${when(plan.planned_at)} · ${plan.bars.length} operations · ` +
          `makespan ${plan.makespan} s · ${plan.status}`;
      }
    } catch (error) {
      notice(ganttBox, "error", `Schedule: ${errorText(error)}`);
      ganttInfo.textContent = "";
    } finally {
      replan.disabled = false;
    }
  }

  async function loadOrders(): Promise<void> {
    try {
      const orders = await get<OrderProgress[]>("/dashboards/orders");
      if (stopped) return;
      clear(ordersBox, orders.length === 0 ? h("p", { class: "muted" }, "No order in progress.") : orders.map((o) => {
        const pct = Math.round(o.progress * 100);
        return h("div", { class: "order", "data-testid": "order-progress", "data-order": o.order_number },
          h("div", { class: "order-head" }, h("b", {}, o.order_number), h("span", { class: `badge ${o.status}` }, o.status),
            h("span", { class: "muted" }, `finished ${o.done} / ${o.quantity} ${o.unit}`),
            o.due_at ? h("span", { class: "muted" }, `due ${when(o.due_at)}`) : null,
            h("span", { class: "pct" }, `${pct} %`)),
          h("div", { class: "progress", role: "progressbar", "aria-valuenow": pct, "aria-valuemin": 0, "aria-valuemax": 100 },
            h("div", { class: "progress-fill", style: `width: ${pct}%` })),
          h("div", { class: "jobs" }, o.jobs.map((j) => {
            const share = j.quantity > 0 ? Math.min(100, Math.round((j.good / j.quantity) * 100)) : 0;
            return h("div", { class: `job ${j.status}`, title: `${j.sequence} ${j.operation}: ${j.status}` },
              h("div", { class: "job-fill", style: `width: ${j.status === "completed" ? 100 : share}%` }),
              h("span", {}, `${j.sequence} ${j.operation}${j.work_unit ? ` · ${j.work_unit}` : ""} · ${j.good}/${j.quantity}`));
          })));
      }));
    } catch (error) {
      notice(ordersBox, "error", `Orders: ${errorText(error)}`);
    }
  }

  shiftDate.addEventListener("change", () => void loadOee());
  replan.addEventListener("click", () => void loadSchedule());
  clear(root,
    h("section", { class: "dash" }, h("h2", {}, "Machines ", h("small", { class: "muted" }, "live")), statesMessage, tiles),
    h("div", { class: "dash-grid" },
      h("section", { class: "dash" }, h("div", { class: "dash-head" }, h("h2", {}, "OEE per machine and shift"), shiftDate), oeeBox),
      h("section", { class: "dash" }, h("h2", {}, "Orders in progress"), ordersBox)),
    h("section", { class: "dash" }, h("div", { class: "dash-head" }, h("h2", {}, "Schedule"), ganttInfo, replan), ganttBox));

  void loadStates().then(() => loadSchedule());
  void loadOee();
  void loadOrders();
  timers.push(window.setInterval(() => void loadStates(), STATES_MS), window.setInterval(() => void loadOrders(), ORDERS_MS));
  return () => {
    stopped = true;
    timers.forEach((t) => window.clearInterval(t));
  };
}
