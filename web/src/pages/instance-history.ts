/** An instance's history: its completed elements in order, and what happened when (Temporal events). */

import { get } from "../api";
import type { InstanceHistory } from "../dashboard-types";
import { h, clear, notice, errorText } from "../dom";

function time(at: string): string {
  return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** When an element completed, as far as the events tell: its activity or user-task completion,
 * the instance's start for a start event, its end for an end event. */
function completionTimes(history: InstanceHistory, typeOf: (elementId: string) => string | null): Map<string, string> {
  const times = new Map<string, string>();
  const started = history.events.find((e) => e.kind === "started")?.at;
  const ended = history.events.find((e) => e.kind === "ended")?.at;
  for (const e of history.events) {
    if (e.element_id && (e.kind === "activity" || e.kind === "user task")) times.set(e.element_id, e.at);
  }
  for (const id of history.completed) {
    const type = typeOf(id);
    if (type === "bpmn:StartEvent" && started && !times.has(id)) times.set(id, started);
    if (type === "bpmn:EndEvent" && ended && !times.has(id)) times.set(id, ended);
  }
  return times;
}

export function historyView(workflowId: string, nameOf: (elementId: string) => string | null,
  typeOf: (elementId: string) => string | null = () => null): {
  element: HTMLElement; refresh(): Promise<void>;
} {
  const element = h("section", { class: "instance-history", "data-testid": "instance-history" });
  async function refresh(): Promise<void> {
    try {
      const history = await get<InstanceHistory>(`/dashboards/instances/${encodeURIComponent(workflowId)}/history`);
      const label = (id: string): string => { const name = nameOf(id); return name ? `${name} (${id})` : id; };
      const times = completionTimes(history, typeOf);
      const completed = h("ol", { "data-testid": "history-completed" }, history.completed.map((id) => {
        const at = times.get(id);
        return h("li", { "data-element-id": id }, h("span", {}, label(id)), at ? h("small", { class: "muted" }, ` ${time(at)}`) : null);
      }));
      const rows = history.events.map((e) => h("tr", { class: e.kind.replace(/ /g, "-") },
        h("td", {}, time(e.at)), h("td", {}, e.kind),
        h("td", {}, e.element_id ? `${label(e.element_id)} · ${e.name}` : e.name),
        h("td", { class: "muted" }, e.detail ?? "")));
      clear(element, h("h3", {}, "History"),
        h("div", { class: "history-columns" },
          h("div", {}, h("h4", {}, "Completed elements, in order"), completed),
          h("div", {}, h("h4", {}, "Timeline"),
            h("table", { class: "grid timeline", "data-testid": "history-events" }, h("tbody", {}, rows)))));
    } catch (error) {
      notice(element, "error", `History: ${errorText(error)}`);
    }
  }
  return { element, refresh };
}
