/**
 * The station (operators): the human steps offered to me at my work centers, big touch-friendly
 * controls, a lot scan field (keyboard-wedge scanners type the code and press Enter) and
 * measurement entry with tolerance feedback.
 */

import { get, query } from "../api";
import { h, clear, notice, errorText } from "../dom";
import type { TaskForm } from "../form";
import { user } from "../session";
import { taskView } from "../task-view";
import type { Page, Task } from "../types";

const LOT_FIELD = /(^|_)lot(_?(id|number|no))?$/i;

export function render(root: HTMLElement, args: string[]): () => void {
  const me = user()!;
  const list = h("div", { class: "station-steps", "data-testid": "station-steps" });
  const detail = h("div", { class: "station-detail" });
  const status = h("div", { class: "status" });
  let selected: string | null = args[0] ?? null;

  clear(root,
    h("h2", {}, "Station", h("small", {}, ` ${me.work_centers.join(", ") || "all work centers"}`)),
    status, h("div", { class: "station" }, list, detail));

  async function refresh(): Promise<void> {
    try {
      const page = await get<Page<Task>>(`/tasks${query({ scope: "available", limit: 50 })}`);
      clear(list, page.items.length === 0 ? h("p", { class: "muted big-text" }, "No steps waiting.") : null,
        page.items.map((task) => h("button", {
          class: `step big${task.task_id === selected ? " open" : ""}`, "data-task-id": task.task_id, "data-testid": "station-step",
          onclick: () => { selected = task.task_id; void open(task.task_id); void refresh(); },
        }, h("b", {}, task.name), h("span", {}, task.business_key ?? task.process_id ?? ""))));
    } catch (error) {
      notice(status, "error", errorText(error));
    }
  }

  async function open(taskId: string): Promise<void> {
    try {
      const task = await get<Task>(`/tasks/${encodeURIComponent(taskId)}`);
      clear(detail, taskView(task, {
        big: true,
        extra: (form) => lotScanField(form),
        onChange: (now) => {
          if (now.status === "completed") {
            selected = null;
            clear(detail, h("div", { class: "notice ok big-text", "data-testid": "step-done" }, `Done: ${now.name}`));
          } else {
            void open(now.task_id);
          }
          void refresh();
        },
      }));
      detail.querySelector<HTMLInputElement>("[data-testid=lot-scan]")?.focus();
    } catch (error) {
      notice(detail, "error", errorText(error));
    }
  }

  void refresh();
  if (selected) void open(selected);
  const timer = window.setInterval(() => void refresh(), 5000);
  return () => window.clearInterval(timer);
}

/** The scan field: Enter puts the scanned code into the form's lot field and confirms it. */
function lotScanField(form: TaskForm): HTMLElement | null {
  const target = form.keys().find((key) => LOT_FIELD.test(key));
  if (!target) return null;
  const scanned = h("div", { class: "scanned", "data-testid": "lot-scanned" });
  const input = h("input", { class: "scan big", "data-testid": "lot-scan", placeholder: "Scan lot…", autocomplete: "off", inputmode: "none" });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const code = input.value.trim();
    if (!code) return;
    form.fill(target, code);
    clear(scanned, h("span", { class: "notice ok" }, `Lot ${code}`));
    input.value = "";
  });
  return h("label", { class: "scan-field" }, h("span", {}, "Lot"), input, scanned);
}
