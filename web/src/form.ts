/**
 * A user task's form, rendered from the JSON Schema the API gives with each task (bpmn/forms.py
 * turns the Camunda form into it). Errors per field come back from the API (422) and are shown
 * next to the inputs; numbers with a minimum/maximum show whether they are within tolerance.
 */

import { h } from "./dom";
import type { JsonSchema } from "./types";

type Reader = () => unknown;

export interface TaskForm {
  element: HTMLElement;
  /** The data to send: empty optional fields are left out. */
  data(): Record<string, unknown>;
  showErrors(errors: Record<string, string>): void;
  /** Put a value into a field (the lot scan field uses it); false when there is no such field. */
  fill(key: string, value: string): boolean;
  keys(): string[];
}

export function renderForm(schema: JsonSchema, options: { big?: boolean } = {}): TaskForm {
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const readers = new Map<string, Reader>();
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>();
  const errorSlots = new Map<string, HTMLElement>();
  const formError = h("div", { class: "field-error", "data-error-for": "_form" });
  const element = h("div", { class: `task-form${options.big ? " big" : ""}`, "data-testid": "task-form" }, formError);

  for (const [key, field] of Object.entries(properties)) {
    const label = field.title ?? key;
    const error = h("div", { class: "field-error", "data-error-for": key });
    errorSlots.set(key, error);
    const star = required.has(key) ? h("span", { class: "required", title: "required" }, " *") : null;
    let control: HTMLElement;
    if (field.type === "boolean") {
      const box = h("input", { type: "checkbox", name: key });
      inputs.set(key, box);
      readers.set(key, () => box.checked);
      control = h("label", { class: "check" }, box, label, star);
    } else if (field.enum) {
      const select = h("select", { name: key }, h("option", { value: "" }, "—"),
        field.enum.map((value) => h("option", { value: JSON.stringify(value) }, String(value))));
      inputs.set(key, select);
      readers.set(key, () => (select.value ? JSON.parse(select.value) : undefined));
      control = h("label", {}, h("span", {}, label, star), select);
    } else if (field.type === "number" || field.type === "integer") {
      control = numberField(key, label, field, star, inputs, readers);
    } else if (field.type === "array" || field.type === "object") {
      const area = h("textarea", { name: key, rows: 3, placeholder: field.type === "array" ? "[...]" : "{...}" });
      inputs.set(key, area);
      readers.set(key, () => (area.value.trim() ? JSON.parse(area.value) : undefined));
      control = h("label", {}, h("span", {}, label, star, h("small", {}, " (JSON)")), area);
    } else {
      const input = h("input", { name: key, type: "text", autocomplete: "off" });
      if (field.maxLength) input.maxLength = field.maxLength;
      inputs.set(key, input);
      readers.set(key, () => (input.value === "" ? undefined : input.value));
      control = h("label", {}, h("span", {}, label, star), input);
    }
    element.append(h("div", { class: "field", "data-field": key }, control, field.description ? h("small", {}, field.description) : null, error));
  }
  if (readers.size === 0) element.append(h("p", { class: "muted" }, "This step has no form: completing it confirms it."));

  return {
    element,
    data() {
      const data: Record<string, unknown> = {};
      for (const [key, read] of readers) {
        const value = read();
        if (value !== undefined) data[key] = value;
      }
      return data;
    },
    showErrors(errors) {
      formError.textContent = errors._form ?? "";
      for (const [key, slot] of errorSlots) {
        slot.textContent = errors[key] ?? "";
        slot.closest(".field")?.classList.toggle("invalid", Boolean(errors[key]));
      }
      const unknown = Object.keys(errors).filter((key) => key !== "_form" && !errorSlots.has(key));
      if (unknown.length) formError.textContent += unknown.map((key) => ` ${key}: ${errors[key]}`).join(";");
    },
    fill(key, value) {
      const input = inputs.get(key);
      if (!input) return false;
      input.value = value;
      input.dispatchEvent(new Event("input"));
      return true;
    },
    keys: () => [...readers.keys()],
  };
}

function numberField(
  key: string,
  label: string,
  field: JsonSchema,
  star: HTMLElement | null,
  inputs: Map<string, HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>,
  readers: Map<string, Reader>,
): HTMLElement {
  const input = h("input", { name: key, type: "number", step: field.type === "integer" ? 1 : "any", inputmode: "decimal" });
  inputs.set(key, input);
  readers.set(key, () => (input.value === "" ? undefined : Number(input.value)));
  const hasTolerance = field.minimum !== undefined || field.maximum !== undefined;
  const range = `${field.minimum ?? "−∞"} … ${field.maximum ?? "+∞"}${field.unit ? ` ${field.unit}` : ""}`;
  const gauge = h("span", { class: "tolerance", "data-tolerance-for": key }, hasTolerance ? `tolerance ${range}` : "");
  input.addEventListener("input", () => {
    if (!hasTolerance || input.value === "") {
      gauge.className = "tolerance";
      gauge.textContent = hasTolerance ? `tolerance ${range}` : "";
      return;
    }
    const value = Number(input.value);
    const low = field.minimum !== undefined && value < field.minimum;
    const high = field.maximum !== undefined && value > field.maximum;
    gauge.className = `tolerance ${low || high ? "out" : "in"}`;
    gauge.textContent = low ? `too low (${range})` : high ? `too high (${range})` : `within tolerance (${range})`;
  });
  return h("label", {}, h("span", {}, label, star), input, gauge);
}
