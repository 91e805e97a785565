/** For a selected service task: choose its zeebe:taskDefinition type from the activity catalog. */

import type { BusinessObject, Diagram, DiagramElement } from "../diagram";
import { h } from "../dom";
import type { TaskType } from "../types";

interface Moddle {
  create(type: string, attrs?: Record<string, unknown>): BusinessObject;
}

interface Modeling {
  updateProperties(element: DiagramElement, properties: Record<string, unknown>): void;
  updateModdleProperties(element: DiagramElement, target: BusinessObject, properties: Record<string, unknown>): void;
}

export function taskTypePicker(modeler: Diagram, selection: DiagramElement[], types: TaskType[]): HTMLElement | null {
  const element = selection.length === 1 ? selection[0] : undefined;
  if (!element || element.type !== "bpmn:ServiceTask") return null;
  const definition = findTaskDefinition(element.businessObject);
  const current = (definition?.type as string | undefined) ?? "";
  const summary = h("small", {}, types.find((t) => t.name === current)?.summary ?? "");
  const select = h("select", { "data-testid": "task-type" },
    h("option", { value: "" }, "— choose a task type —"),
    current && !types.some((t) => t.name === current) ? h("option", { value: current }, `${current} (not in the catalog)`) : null,
    types.map((t) => h("option", { value: t.name, title: t.summary }, `${t.name}${t.runs === "edge" ? " (plant edge)" : ""}`)));
  select.value = current;
  select.addEventListener("change", () => {
    setTaskType(modeler, element, select.value);
    const chosen = types.find((t) => t.name === select.value);
    summary.textContent = chosen ? `${chosen.summary}${chosen.inputs.length ? ` — inputs: ${chosen.inputs.join(", ")}` : ""}` : "";
  });
  return h("label", { class: "task-type" }, h("b", {}, "Service task type"), select, summary);
}

function findTaskDefinition(bo: BusinessObject): BusinessObject | undefined {
  return bo.extensionElements?.values?.find((v) => v.$type === "zeebe:TaskDefinition");
}

function setTaskType(modeler: Diagram, element: DiagramElement, type: string): void {
  const moddle = modeler.get<Moddle>("moddle");
  const modeling = modeler.get<Modeling>("modeling");
  const bo = element.businessObject;
  let extensions = bo.extensionElements;
  if (!extensions) {
    extensions = moddle.create("bpmn:ExtensionElements", { values: [] }) as BusinessObject & { values: BusinessObject[] };
    extensions.$parent = bo;
    modeling.updateProperties(element, { extensionElements: extensions });
  }
  const existing = findTaskDefinition(bo);
  if (existing) {
    modeling.updateModdleProperties(element, existing, { type });
    return;
  }
  const definition = moddle.create("zeebe:TaskDefinition", { type });
  definition.$parent = extensions;
  modeling.updateModdleProperties(element, extensions, { values: [...extensions.values, definition] });
}
