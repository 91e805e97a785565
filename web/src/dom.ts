/** A small element builder: h("button", { class: "primary", onclick: go }, "Deploy"). */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, ...children);
  return element;
}

export function append(parent: Element, ...children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
}

export function clear(element: Element, ...children: (Child | Child[])[]): void {
  element.replaceChildren();
  append(element, ...children);
}

/** What to show of a caught error (an ApiError's message names the field or endpoint). */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A labelled figure of a detail header (product, quantity, status, due ...). */
export function fact(label: string, value: string | Node, kind = ""): HTMLElement {
  return h("div", { class: `fact ${kind}`.trim() }, h("span", {}, label), h("b", {}, value));
}

/** A status line: kind "ok" | "error" | "info". */
export function notice(target: Element, kind: "ok" | "error" | "info", text: string): void {
  clear(target, h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text));
}

export function when(value: string | null | undefined): string {
  return value ? new Date(value).toLocaleString() : "–";
}

/** Key/value pairs as a definition list (variables, task context). */
export function pairs(values: Record<string, unknown>, testId?: string): HTMLElement {
  const keys = Object.keys(values);
  if (keys.length === 0) return h("p", { class: "muted" }, "none");
  return h(
    "dl",
    { class: "pairs", "data-testid": testId },
    keys.flatMap((key) => [h("dt", {}, key), h("dd", {}, show(values[key]))]),
  );
}

function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
