/**
 * "Design form" for a selected user task: the form-js editor (@bpmn-io/form-js-editor, loaded only
 * when the designer opens) edits the task's Camunda form, stored as Camunda Modeler does: an
 * embedded zeebe:userTaskForm (form-js JSON) in the process's extensionElements, referenced by
 * zeebe:formDefinition formKey="camunda-forms:bpmn:<id>" on the task. The engine turns it into the
 * task's JSON Schema (bpmn/forms.py), which the inbox and the station render.
 */

import "./form-designer.css";

import type { BusinessObject, Diagram, DiagramElement } from "./diagram";
import { h, clear, notice, errorText } from "./dom";

const FORM_KEY_PREFIX = "camunda-forms:bpmn:";

interface Moddle {
  create(type: string, attrs?: Record<string, unknown>): BusinessObject;
}

interface Modeling {
  updateModdleProperties(element: DiagramElement, target: BusinessObject, properties: Record<string, unknown>): void;
}

interface FormSchema {
  type?: string;
  id?: string;
  components?: unknown[];
  [key: string]: unknown;
}

interface Editor {
  importSchema(schema: FormSchema): Promise<unknown>;
  saveSchema(): FormSchema;
  destroy(): void;
}

type Extensions = BusinessObject & { values: BusinessObject[] };

export interface FormDesigner {
  /** The dialog (put it once into the page). */
  dialog: HTMLElement;
  /** "Design form" for a single selected user task, otherwise null. */
  button(selection: DiagramElement[]): HTMLElement | null;
  close(): void;
}

export function formDesigner(modeler: Diagram): FormDesigner {
  const dialog = h("div", { class: "form-designer-backdrop", hidden: true, "data-testid": "form-designer" });
  let editor: Editor | null = null;

  function close(): void {
    editor?.destroy();
    editor = null;
    clear(dialog);
    dialog.hidden = true;
  }

  async function openFor(element: DiagramElement, onSaved: () => void): Promise<void> {
    close();
    const status = h("div", { class: "status", "data-testid": "form-designer-status" });
    const container = h("div", { class: "form-designer-editor" });
    const save = h("button", { class: "primary", "data-testid": "form-designer-save", disabled: true }, "Save form");
    clear(dialog, h("div", { class: "form-designer", role: "dialog", "aria-label": "Form designer" },
      h("div", { class: "toolbar" },
        h("b", {}, `Form of ${element.businessObject.name ?? element.id}`),
        h("span", { class: "spacer" }),
        save,
        h("button", { "data-testid": "form-designer-cancel", onclick: close }, "Cancel")),
      status, container));
    dialog.hidden = false;
    notice(status, "info", "Loading the form editor…");
    try {
      const [{ FormEditor }] = await Promise.all([
        import("@bpmn-io/form-js-editor"),
        import("@bpmn-io/form-js-viewer/dist/assets/form-js.css"),
        import("@bpmn-io/form-js-editor/dist/assets/form-js-editor.css"),
        import("@bpmn-io/form-js-editor/dist/assets/properties-panel.css"),
      ]);
      const created = new FormEditor({ container }) as unknown as Editor;
      editor = created;
      await created.importSchema(currentForm(element) ?? { type: "default", id: `Form_${element.id}`, components: [] });
      save.disabled = false;
      save.addEventListener("click", () => {
        try {
          storeForm(modeler, element, created.saveSchema());
          close();
          onSaved();
        } catch (error) {
          notice(status, "error", `The form cannot be saved: ${errorText(error)}`);
        }
      });
      clear(status);
    } catch (error) {
      notice(status, "error", `The form editor cannot be opened: ${errorText(error)}`);
    }
  }

  return {
    dialog,
    button(selection) {
      const element = selection.length === 1 ? selection[0] : undefined;
      if (!element || element.type !== "bpmn:UserTask") return null;
      const summary = h("small", { "data-testid": "form-summary" });
      const describe = (): void => {
        const form = currentForm(element);
        const count = form?.components?.length ?? 0;
        summary.textContent = form ? ` ${count} component${count === 1 ? "" : "s"}` : " no embedded form yet";
      };
      describe();
      return h("div", { class: "form-designer-entry" },
        h("button", { "data-testid": "design-form", onclick: () => void openFor(element, describe) }, "Design form"), summary);
    },
    close,
  };
}

function extensionValues(bo: BusinessObject | undefined): BusinessObject[] {
  return bo?.extensionElements?.values ?? [];
}

function processOf(bo: BusinessObject): BusinessObject | undefined {
  let node: BusinessObject | undefined = bo;
  while (node && node.$type !== "bpmn:Process") node = node.$parent as BusinessObject | undefined;
  return node;
}

function formDefinitionOf(bo: BusinessObject): BusinessObject | undefined {
  return extensionValues(bo).find((v) => v.$type === "zeebe:FormDefinition");
}

function userTaskFormOf(element: DiagramElement): BusinessObject | undefined {
  const key = formDefinitionOf(element.businessObject)?.formKey;
  if (typeof key !== "string" || !key.startsWith(FORM_KEY_PREFIX)) return undefined;
  const id = key.slice(FORM_KEY_PREFIX.length);
  return extensionValues(processOf(element.businessObject)).find((v) => v.$type === "zeebe:UserTaskForm" && v.id === id);
}

/** The task's embedded form-js form, or null (none, or not JSON). */
function currentForm(element: DiagramElement): FormSchema | null {
  const body = userTaskFormOf(element)?.body;
  if (typeof body !== "string" || !body.trim()) return null;
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as FormSchema) : null;
  } catch {
    return null;
  }
}

function ensureExtensions(modeler: Diagram, element: DiagramElement, target: BusinessObject): Extensions {
  if (target.extensionElements) return target.extensionElements;
  const extensions = modeler.get<Moddle>("moddle").create("bpmn:ExtensionElements", { values: [] }) as Extensions;
  extensions.$parent = target;
  modeler.get<Modeling>("modeling").updateModdleProperties(element, target, { extensionElements: extensions });
  return extensions;
}

/** Store the form: the process's zeebe:userTaskForm (created or updated) and the task's formKey. */
export function storeForm(modeler: Diagram, element: DiagramElement, schema: FormSchema): void {
  const moddle = modeler.get<Moddle>("moddle");
  const modeling = modeler.get<Modeling>("modeling");
  const task = element.businessObject;
  const process = processOf(task);
  if (!process) throw new Error(`${element.id} is not inside a process`);
  const body = JSON.stringify(withNumericLimits(schema));

  let form = userTaskFormOf(element);
  if (form) {
    modeling.updateModdleProperties(element, form, { body });
  } else {
    const taken = new Set(extensionValues(process).map((v) => v.id));
    let id = `UserTaskForm_${element.id}`;
    for (let n = 2; taken.has(id); n += 1) id = `UserTaskForm_${element.id}_${n}`;
    const processExtensions = ensureExtensions(modeler, element, process);
    form = moddle.create("zeebe:UserTaskForm", { id, body });
    form.$parent = processExtensions;
    modeling.updateModdleProperties(element, processExtensions, { values: [form, ...processExtensions.values] });
  }

  const formKey = `${FORM_KEY_PREFIX}${form.id}`;
  const definition = formDefinitionOf(task);
  if (definition) {
    modeling.updateModdleProperties(element, definition, { formKey, formId: undefined, externalReference: undefined });
    return;
  }
  const taskExtensions = ensureExtensions(modeler, element, task);
  const created = moddle.create("zeebe:FormDefinition", { formKey });
  created.$parent = taskExtensions;
  modeling.updateModdleProperties(element, taskExtensions, { values: [created, ...taskExtensions.values] });
}

/** The form-js editor keeps typed min/max/minLength/maxLength as strings ("10"); the engine's JSON
 * Schema (bpmn/forms.py) needs numbers, so numeric strings become numbers (FEEL "=..." stays). */
function withNumericLimits(schema: FormSchema): FormSchema {
  const fix = (component: unknown): unknown => {
    if (!component || typeof component !== "object") return component;
    const copy = { ...(component as Record<string, unknown>) };
    const validate = copy.validate;
    if (validate && typeof validate === "object") {
      const limits = { ...(validate as Record<string, unknown>) };
      for (const name of ["min", "max", "minLength", "maxLength"]) {
        const value = limits[name];
        if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) limits[name] = Number(value);
      }
      copy.validate = limits;
    }
    if (Array.isArray(copy.components)) copy.components = copy.components.map(fix);
    return copy;
  };
  return { ...schema, components: (schema.components ?? []).map(fix) };
}
