/**
 * Instances (engineers, supervisors): list and filter; one instance's diagram with completed and
 * active elements highlighted live, its variables, its open tasks, an incident with retry, and its
 * history (instance-history.ts).
 */

import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";

import { get, post, query } from "../api";
import { highlight, showDiagram, type Diagram, type DiagramElement, type ElementRegistry } from "../diagram";
import { h, clear, notice, pairs, when, errorText } from "../dom";
import { hasRole } from "../session";
import type { Instance, InstanceState, Page } from "../types";
import "../version-diff.css";
import { historyView } from "./instance-history";

const STATUSES = ["", "running", "completed", "failed", "cancelled", "terminated"];
const POLL_MS = 1500;

export function render(root: HTMLElement, args: string[]): () => void {
  return args[0] ? renderOne(root, args[0]) : renderList(root);
}

function renderList(root: HTMLElement): () => void {
  const status = h("select", { "data-testid": "filter-status" }, STATUSES.map((s) => h("option", { value: s }, s || "any status")));
  const processId = h("input", { placeholder: "process id", "data-testid": "filter-process" });
  const businessKey = h("input", { placeholder: "business key" });
  const incidents = h("input", { type: "checkbox" });
  const table = h("tbody");
  const message = h("div", { class: "status" });

  async function refresh(): Promise<void> {
    try {
      const page = await get<Page<Instance>>(`/instances${query({
        status: status.value, process_id: processId.value.trim(), business_key: businessKey.value.trim(),
        with_open_incidents: incidents.checked ? true : null, limit: 100,
      })}`);
      clear(table, page.items.map((i) => h("tr", { "data-workflow-id": i.workflow_id },
        h("td", {}, h("a", { href: `#/instances/${encodeURIComponent(i.workflow_id)}` }, i.workflow_id)),
        h("td", {}, `${i.process_id} v${i.version}`), h("td", {}, i.business_key ?? "–"),
        h("td", {}, i.open_incident ? h("span", { class: "badge incident", "data-testid": "open-incident" }, "incident")
          : h("span", { class: `badge ${i.status}` }, i.status)),
        h("td", {}, i.started_by ?? "–"), h("td", {}, when(i.started_at)))));
      if (page.items.length === 0) table.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No instances.")));
    } catch (error) {
      notice(message, "error", errorText(error));
    }
  }

  for (const input of [status, incidents]) input.addEventListener("change", () => void refresh());
  for (const input of [processId, businessKey]) input.addEventListener("keydown", (e) => { if (e.key === "Enter") void refresh(); });
  clear(root,
    h("div", { class: "toolbar" }, status, processId, businessKey, h("label", { class: "check" }, incidents, "open incidents"),
      h("button", { onclick: () => void refresh() }, "Filter")),
    message,
    h("table", { class: "grid", "data-testid": "instances" },
      h("thead", {}, h("tr", {}, ["Instance", "Process", "Business key", "Status", "Started by", "Started"].map((c) => h("th", {}, c)))),
      table));
  void refresh();
  const timer = window.setInterval(() => void refresh(), 5000);
  return () => window.clearInterval(timer);
}

function renderOne(root: HTMLElement, workflowId: string): () => void {
  const canvas = h("div", { class: "viewer", "data-testid": "instance-diagram" });
  const header = h("div", { class: "instance-header" });
  const variables = h("div", {});
  const tasks = h("div", {});
  const incidentBox = h("div", { "data-testid": "incident" });
  const message = h("div", { class: "status" });
  let diagram: Diagram | null = null;
  let stopped = false;
  let timer = 0;
  let seen = "";
  const elementOf = (id: string): DiagramElement | undefined => diagram?.get<ElementRegistry>("elementRegistry").get(id);
  const history = historyView(workflowId, (id) => elementOf(id)?.businessObject.name ?? null,
    (id) => elementOf(id)?.type ?? null);

  clear(root, h("p", {}, h("a", { href: "#/instances" }, "← all instances")), header, message, canvas,
    h("div", { class: "columns" },
      h("section", {}, h("h3", {}, "Variables"), variables),
      h("section", {}, h("h3", {}, "Open tasks"), tasks),
      h("section", {}, h("h3", {}, "Incident"), incidentBox)),
    history.element);

  async function load(): Promise<void> {
    try {
      const instance = await get<Instance>(`/instances/${encodeURIComponent(workflowId)}`);
      const xml = await get<string>(`/process-definitions/${encodeURIComponent(instance.process_id)}/versions/${instance.version}/xml`);
      if (stopped) return;
      diagram = await showDiagram(canvas, xml);
      await poll();
    } catch (error) {
      notice(message, "error", errorText(error));
    }
  }

  async function poll(): Promise<void> {
    if (stopped) return;
    try {
      const state = await get<InstanceState>(`/instances/${encodeURIComponent(workflowId)}/state`);
      draw(state);
      if (state.status === "running" || state.incident) timer = window.setTimeout(() => void poll(), POLL_MS);
    } catch (error) {
      notice(message, "error", errorText(error));
      timer = window.setTimeout(() => void poll(), POLL_MS * 3);
    }
  }

  function draw(state: InstanceState): void {
    if (diagram) highlight(diagram, state.completed, state.active, state.incident?.element_id ?? null);
    clear(header, h("h2", {}, workflowId, " ", h("span", { class: `badge ${state.status}`, "data-testid": "instance-status" }, state.status)),
      h("p", { class: "muted" }, `active: ${state.active.join(", ") || "–"} · completed: ${state.completed.length} elements`));
    clear(variables, pairs(state.variables, "variables"));
    const progress = `${state.status}:${state.completed.length}:${state.incident ? "incident" : ""}`;
    if (progress !== seen) {
      seen = progress;
      void history.refresh();
    }
    clear(tasks, state.user_tasks.length === 0 ? h("p", { class: "muted" }, "none") : h("ul", {},
      state.user_tasks.map((t) => h("li", {}, String(t.name ?? t.element_id ?? "task"),
        t.task_id ? [" ", h("a", { href: `#/inbox/${encodeURIComponent(String(t.task_id))}` }, "open")] : null))));
    drawIncident(state);
  }

  function drawIncident(state: InstanceState): void {
    if (!state.incident) {
      clear(incidentBox, h("p", { class: "muted" }, "none"));
      return;
    }
    const child = state.incident.kind === "child" ? state.incident.child_workflow_id : null;
    if (child) {  // retried in the called instance, not here
      clear(incidentBox,
        h("div", { class: "notice error" }, h("b", {}, state.incident.element_id ?? "call"), `: ${state.incident.message ?? ""}`),
        h("p", {}, "The incident is in the called instance: ",
          h("a", { href: `#/instances/${encodeURIComponent(child)}`, "data-testid": "child-instance" }, child)));
      return;
    }
    const patch = h("textarea", { rows: 3, placeholder: '{"qty": 10}', "data-testid": "retry-variables" }, "{}");
    const reason = h("input", { placeholder: "why (audit log)" });
    const retryStatus = h("div", { class: "status" });
    clear(incidentBox,
      h("div", { class: "notice error" }, h("b", {}, state.incident.element_id ?? "instance"), `: ${state.incident.message ?? ""}`),
      hasRole("engineer", "supervisor") ? [
        h("label", {}, "Fix variables (JSON)", patch), reason,
        h("button", { class: "primary", "data-testid": "retry", onclick: async () => {
          try {
            await post(`/instances/${encodeURIComponent(workflowId)}/retry`, { variables: JSON.parse(patch.value || "{}"), reason: reason.value || null });
            notice(retryStatus, "ok", "Retried");
            window.clearTimeout(timer);
            void poll();
          } catch (error) {
            notice(retryStatus, "error", errorText(error));
          }
        } }, "Retry"), retryStatus] : null);
  }

  void load();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
    diagram?.destroy();
  };
}
