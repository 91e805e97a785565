/**
 * The modeler's test run: the diagram being drawn runs on the running stack (like `mom run`),
 * deployed under a throwaway process id (`<id>__trial`); the outcome is shown on the diagram
 * (completed elements green, still active blue, the incident red) with the final variables.
 */

import { post } from "../api";
import type { TestRunOutcome } from "../dashboard-types";
import { highlight, type Diagram, type ElementRegistry } from "../diagram";
import { h, clear, notice, pairs, errorText } from "../dom";

function userTaskIds(diagram: Diagram): string[] {
  return diagram.get<ElementRegistry>("elementRegistry").getAll()
    .filter((e) => e.type === "bpmn:UserTask").map((e) => e.id);
}

function parseObject(text: string, field: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text.trim() || "{}");
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error(`${field}: expected a JSON object`);
  return value as Record<string, unknown>;
}

export function testRunPanel(diagram: Diagram, currentXml: () => Promise<string>): { panel: HTMLElement; reset(): void } {
  const variables = h("textarea", { rows: 3, "data-testid": "trial-variables", placeholder: '{"qty": 10}' }, "{}");
  const completions = h("textarea", { rows: 3, "data-testid": "trial-user-tasks",
    placeholder: '{"approve": {"approved": true}}' }, "{}");
  const timeout = h("input", { type: "number", min: 1, max: 120, value: 30, "data-testid": "trial-timeout" });
  const result = h("div", { class: "trial-result", "data-testid": "trial-result" });
  const run = h("button", { class: "primary", "data-testid": "trial-run" }, "Run");

  function prefill(): void {
    const ids = userTaskIds(diagram);
    if (completions.value.trim() === "{}" && ids.length) {
      completions.value = JSON.stringify(Object.fromEntries(ids.map((id) => [id, {}])), null, 1);
    }
  }

  run.addEventListener("click", async () => {
    let body: Record<string, unknown>;
    try {
      body = { xml: await currentXml(), variables: parseObject(variables.value, "variables"),
        complete_user_tasks: parseObject(completions.value, "user tasks"), timeout: Number(timeout.value) || 30 };
    } catch (error) {
      notice(result, "error", errorText(error));
      return;
    }
    run.disabled = true;
    notice(result, "info", "Running on the simulated plant…");
    try {
      const outcome = await post<TestRunOutcome>("/lint/test-run", body);
      show(outcome);
    } catch (error) {
      notice(result, "error", `Test run failed: ${errorText(error)}`);
    } finally {
      run.disabled = false;
    }
  });

  function show(outcome: TestRunOutcome): void {
    const incidentAt = typeof outcome.incident?.element_id === "string" ? outcome.incident.element_id : null;
    highlight(diagram, outcome.completed, outcome.active, incidentAt);
    const kind = outcome.status === "completed" ? "ok" : "error";
    clear(result,
      h("div", { class: `notice ${kind}`, "data-testid": "trial-status" },
        h("b", {}, outcome.status), outcome.instance_id ? ` · ${outcome.process_id} v${outcome.version} · ${outcome.instance_id}` : ""),
      outcome.problems.length ? h("ul", { class: "problems" }, outcome.problems.map((p) => h("li", {}, p))) : null,
      outcome.incident ? h("p", { class: "field-error", "data-testid": "trial-incident" },
        `${incidentAt ?? "instance"}: ${String(outcome.incident.message ?? "")}`) : null,
      outcome.pending_user_tasks.length ? h("p", {}, `waiting for user tasks: ${outcome.pending_user_tasks.join(", ")} ` +
        "(give their form data above)") : null,
      h("h4", {}, "Completed, in order"),
      h("ol", { class: "trial-completed", "data-testid": "trial-completed" }, outcome.completed.map((id) => h("li", {}, id))),
      h("h4", {}, "Variables"), pairs(outcome.variables, "trial-variables-out"));
  }

  const panel = h("div", { class: "trial", "data-testid": "trial-panel" },
    h("h3", {}, "Test run on the simulated plant"),
    h("label", {}, "Start variables (JSON)", variables),
    h("label", {}, "Complete user tasks with (JSON: element id → form data)", completions),
    h("label", {}, "Timeout (s)", timeout),
    h("div", { class: "actions" }, run, h("button", { onclick: () => { highlight(diagram, [], [], null); clear(result); } }, "Clear")),
    result);
  panel.addEventListener("focusin", prefill, { once: true });
  return { panel, reset: () => { clear(result); completions.value = "{}"; } };
}
