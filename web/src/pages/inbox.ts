/** The inbox (supervisors, engineers): my tasks, my groups', overdue, everyone's; open one to work on it. */

import { get, query } from "../api";
import { h, clear, notice, when, errorText } from "../dom";
import { hasRole } from "../session";
import { emptyDetail, taskView } from "../task-view";
import type { Page, Task } from "../types";

interface Tab {
  id: string;
  title: string;
  params: Record<string, string | boolean>;
}

const TABS: Tab[] = [
  { id: "mine", title: "My tasks", params: { scope: "mine" } },
  { id: "groups", title: "My groups", params: { scope: "available" } },
  { id: "overdue", title: "Overdue", params: { scope: "available", overdue: true } },
  { id: "all", title: "All", params: { scope: "all" } },
];

export function render(root: HTMLElement, args: string[]): () => void {
  let tab = TABS[1];
  let openTask: string | null = args[0] ?? null;
  const tabs = h("div", { class: "tabs", role: "tablist" });
  const list = h("ul", { class: "task-list", "data-testid": "task-list" });
  const detail = h("div", { class: "detail" });
  const status = h("div", { class: "status" });
  clear(root, tabs, status, h("div", { class: "split" }, list, detail));

  function drawTabs(): void {
    clear(tabs, TABS.filter((t) => t.id !== "all" || hasRole("supervisor")).map((t) =>
      h("button", { role: "tab", class: t === tab ? "tab active" : "tab", "data-tab": t.id,
        onclick: () => { tab = t; drawTabs(); void refresh(); } }, t.title)));
  }

  async function refresh(): Promise<void> {
    try {
      const page = await get<Page<Task>>(`/tasks${query({ ...tab.params, limit: 100 })}`);
      clear(list, page.items.length === 0 ? h("li", { class: "muted" }, "Nothing to do here.") : null,
        page.items.map((task) => h("li", {
          class: `task-row${task.task_id === openTask ? " open" : ""}${task.overdue ? " overdue" : ""}`,
          "data-task-id": task.task_id, "data-testid": "task-row",
          onclick: () => { location.hash = `#/inbox/${encodeURIComponent(task.task_id)}`; },
        },
        h("b", {}, task.name),
        h("span", {}, `${task.process_id ?? ""} · ${task.business_key ?? task.workflow_id ?? ""}`),
        h("small", {}, `${task.assignee ? `claimed by ${task.assignee}` : "unclaimed"} · ${task.due_at ? `due ${when(task.due_at)}` : when(task.created_at)}`))));
    } catch (error) {
      notice(status, "error", errorText(error));
    }
  }

  async function showTask(taskId: string): Promise<void> {
    try {
      const task = await get<Task>(`/tasks/${encodeURIComponent(taskId)}`);
      clear(detail, taskView(task, {
        onChange: (now) => {
          void refresh();
          if (now.status === "completed") {
            clear(detail, h("div", { class: "notice ok", "data-testid": "task-done" }, `Completed “${now.name}”. `,
              now.workflow_id ? h("a", { href: `#/instances/${encodeURIComponent(now.workflow_id)}` }, "See the instance") : null));
          } else {
            void showTask(now.task_id);
          }
        },
      }));
    } catch (error) {
      notice(detail, "error", errorText(error));
    }
  }

  drawTabs();
  void refresh();
  if (openTask) void showTask(openTask);
  else emptyDetail(detail, "Choose a task on the left.");
  const timer = window.setInterval(() => void refresh(), 5000);
  return () => {
    window.clearInterval(timer);
    openTask = null;
  };
}
