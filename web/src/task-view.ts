/** One inbox task opened: its context, claim/release, its form, and completion (inbox and station). */

import { ApiError, post } from "./api";
import { h, clear, notice, when, errorText, fact } from "./dom";
import { renderForm, type TaskForm } from "./form";
import { taskContext } from "./task-context";
import { hasRole, user } from "./session";
import type { Task } from "./types";

export interface TaskViewOptions {
  big?: boolean;
  /** Called after the task was completed (or claimed/released) with the task as it is now. */
  onChange(task: Task): void;
  /** Elements put above the form (the station's lot scan field). */
  extra?: (form: TaskForm) => HTMLElement | null;
}

export function taskView(task: Task, options: TaskViewOptions): HTMLElement {
  const me = user()?.username;
  const status = h("div", { class: "status", "data-testid": "task-status" });
  const form = renderForm(task.form_schema ?? {}, { big: options.big });
  const mine = task.assignee === me;
  const fourEyesBlocked = task.four_eyes && task.requested_by === me;
  // a task marked for signature: the password again, sent with the completion, never kept
  const password = task.signature
    ? h("input", { type: "password", autocomplete: "current-password", "data-testid": "signature-password",
        "aria-label": `Password: electronic signature (${task.signature})` })
    : null;

  async function act(action: "claim" | "unclaim"): Promise<void> {
    try {
      options.onChange(await post<Task>(`/tasks/${encodeURIComponent(task.task_id)}/${action}`));
    } catch (error) {
      notice(status, "error", errorText(error));
    }
  }

  async function complete(button: HTMLButtonElement): Promise<void> {
    form.showErrors({});
    let data: Record<string, unknown>;
    try {
      data = form.data();
    } catch (error) {
      notice(status, "error", `The form has a value that is not valid JSON: ${String(error)}`);
      return;
    }
    if (password && !password.value) {
      notice(status, "error", `Enter your password to sign (${task.signature}).`);
      password.focus();
      return;
    }
    button.disabled = true;
    try {
      const body = password ? { data, password: password.value } : { data };
      const done = await post<Task>(`/tasks/${encodeURIComponent(task.task_id)}/complete`, body);
      notice(status, "ok", `Completed “${task.name}”`);
      options.onChange(done);
    } catch (error) {
      const fields = error instanceof ApiError ? error.fieldErrors : {};
      form.showErrors(fields);
      notice(status, "error", Object.keys(fields).length && !("password" in fields)
        ? "Not completed: correct the marked fields."
        : errorText(error));
    } finally {
      button.disabled = false;
      if (password) password.value = "";
    }
  }

  const completeButton = h("button", { class: `primary${options.big ? " big" : ""}`, "data-testid": "complete" }, "Complete");
  completeButton.addEventListener("click", () => void complete(completeButton));
  completeButton.disabled = fourEyesBlocked || (task.status !== "open" && task.status !== "claimed");

  const instanceLink = task.workflow_id && hasRole("engineer", "supervisor")
    ? h("a", { href: `#/instances/${encodeURIComponent(task.workflow_id)}`, "data-testid": "instance-link" }, task.workflow_id)
    : task.workflow_id ?? "–";
  return h("section", { class: `task-view${options.big ? " big" : ""}`, "data-testid": "task-view", "data-task-id": task.task_id },
    h("h2", {}, task.name),
    h("div", { class: "facts" },
      fact("Process", `${task.process_id ?? "?"} v${task.process_version ?? "?"}`),
      fact("Order / key", task.business_key ?? "–"),
      fact("Instance", instanceLink),
      fact("Assignee", task.assignee ?? "unclaimed"),
      fact("Groups", task.candidate_groups.join(", ") || "anyone"),
      fact("Due", task.due_at ? when(task.due_at) : "–", task.overdue ? "overdue" : ""),
      fact("Priority", String(task.priority ?? "–")),
      fact("Requested by", task.requested_by ?? "–")),
    task.documentation ? h("p", { class: "documentation" }, task.documentation) : null,
    task.four_eyes ? h("p", { class: "notice info" }, fourEyesBlocked
      ? "Four eyes: you requested this change, someone else must approve it."
      : "Four eyes: the requester may not complete this task.") : null,
    h("h3", {}, "Context"), taskContext(task.context),
    h("div", { class: "actions" },
      task.assignee === null ? h("button", { "data-testid": "claim", class: options.big ? "big" : null, onclick: () => void act("claim") }, "Claim") : null,
      mine ? h("button", { "data-testid": "unclaim", class: options.big ? "big" : null, onclick: () => void act("unclaim") }, "Release") : null),
    options.extra?.(form) ?? null,
    h("h3", {}, "Form"), form.element,
    password ? h("div", { class: "signature", "data-testid": "signature" },
      h("p", { class: "notice info" }, `Electronic signature: completing this task signs it as “${task.signature}” `
        + `by ${me ?? "you"}. Enter your password again.`),
      h("label", {}, "Password ", password)) : null,
    h("div", { class: "actions" }, completeButton),
    status);
}

export function emptyDetail(target: HTMLElement, text: string): void {
  clear(target, h("p", { class: "muted" }, text));
}
