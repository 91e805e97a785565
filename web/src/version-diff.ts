/**
 * Two versions of a process side by side with what changed marked on both diagrams: elements are
 * matched by id; an element is changed when its attributes or its own content (extension
 * elements, conditions, documentation; not its incoming/outgoing references) differ.
 */

import "./version-diff.css";
import { get } from "./api";
import { showDiagram, type Canvas, type Diagram, type ElementRegistry } from "./diagram";
import { h, clear } from "./dom";

const MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL";
const SKIPPED_CHILDREN = new Set(["incoming", "outgoing"]);

export type ChangeKind = "added" | "removed" | "changed";

export interface ElementChange {
  id: string;
  kind: ChangeKind;
  type: string;
  name: string | null;
  details: string[];
}

interface Described {
  type: string;
  name: string | null;
  attributes: Map<string, string>;
  content: string;
  parts: Map<string, string>;
}

function attributeKey(attr: Attr): string {
  return attr.namespaceURI && attr.namespaceURI !== MODEL_NS ? `${attr.prefix ?? attr.namespaceURI}:${attr.localName}` : attr.localName;
}

/** An element's content without its id'd descendants (compared on their own), whatever the prefixes. */
function canonical(element: Element): string {
  const attrs = Array.from(element.attributes).filter((a) => !a.name.startsWith("xmlns"))
    .map((a) => `${a.namespaceURI ?? ""}|${a.localName}=${a.value}`).sort().join(",");
  const parts: string[] = [];
  for (const child of Array.from(element.childNodes)) {
    if (child.nodeType === Node.TEXT_NODE || child.nodeType === Node.CDATA_SECTION_NODE) {
      const text = (child.textContent ?? "").trim();
      if (text) parts.push(JSON.stringify(text));
    } else if (child instanceof Element) {
      if (child.hasAttribute("id") && child.namespaceURI === MODEL_NS) continue;
      if (child.namespaceURI === MODEL_NS && SKIPPED_CHILDREN.has(child.localName)) continue;
      parts.push(canonical(child));
    }
  }
  return `${element.namespaceURI ?? ""}|${element.localName}[${attrs}](${parts.join(";")})`;
}

/** The element's own children by name (text when they have only text), for the change details. */
function partsOf(element: Element): Map<string, string> {
  const parts = new Map<string, string>();
  for (const child of Array.from(element.children)) {
    if (child.hasAttribute("id") && child.namespaceURI === MODEL_NS) continue;
    if (child.namespaceURI === MODEL_NS && SKIPPED_CHILDREN.has(child.localName)) continue;
    const simple = child.children.length === 0 ? (child.textContent ?? "").trim() : null;
    const key = child.localName;
    parts.set(key, (parts.has(key) ? `${parts.get(key)};` : "") + (simple ?? canonical(child)));
  }
  return parts;
}

function contentOf(element: Element): string {
  const parts: string[] = [];
  for (const child of Array.from(element.children)) {
    if (child.hasAttribute("id") && child.namespaceURI === MODEL_NS) continue;
    if (child.namespaceURI === MODEL_NS && SKIPPED_CHILDREN.has(child.localName)) continue;
    parts.push(canonical(child));
  }
  for (const child of Array.from(element.childNodes)) {
    if (child.nodeType === Node.TEXT_NODE && (child.textContent ?? "").trim()) parts.push((child.textContent ?? "").trim());
  }
  return parts.join(";");
}

/** The semantic elements of a BPMN document by id (diagram interchange left out). */
export function describeElements(xml: string): Map<string, Described> {
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  const error = doc.getElementsByTagName("parsererror")[0];
  if (error) throw new Error(`not well-formed XML: ${error.textContent ?? ""}`);
  const found = new Map<string, Described>();
  for (const element of Array.from(doc.getElementsByTagNameNS(MODEL_NS, "*"))) {
    const id = element.getAttribute("id");
    if (!id || element.localName === "definitions") continue;
    const attributes = new Map<string, string>();
    for (const attr of Array.from(element.attributes)) {
      if (attr.name === "id" || attr.name.startsWith("xmlns")) continue;
      attributes.set(attributeKey(attr), attr.value);
    }
    found.set(id, { type: element.localName, name: element.getAttribute("name"), attributes, content: contentOf(element),
      parts: partsOf(element) });
  }
  return found;
}

export function diffDiagrams(oldXml: string, newXml: string): ElementChange[] {
  const before = describeElements(oldXml);
  const after = describeElements(newXml);
  const changes: ElementChange[] = [];
  for (const [id, old] of before) {
    const now = after.get(id);
    if (!now) {
      changes.push({ id, kind: "removed", type: old.type, name: old.name, details: [] });
      continue;
    }
    const details: string[] = [];
    if (old.type !== now.type) details.push(`type: ${old.type} → ${now.type}`);
    for (const key of new Set([...old.attributes.keys(), ...now.attributes.keys()])) {
      const a = old.attributes.get(key), b = now.attributes.get(key);
      if (a !== b) details.push(`${key}: ${a ?? "–"} → ${b ?? "–"}`);
    }
    if (old.content !== now.content) {
      const named: string[] = [];
      for (const key of new Set([...old.parts.keys(), ...now.parts.keys()])) {
        const a = old.parts.get(key), b = now.parts.get(key);
        if (a === b) continue;
        const readable = (v: string | undefined): boolean => v === undefined || !v.includes("|");
        named.push(readable(a) && readable(b) ? `${key}: ${a ?? "–"} → ${b ?? "–"}` : `${key} differs`);
      }
      details.push(...(named.length ? named : ["content differs"]));
    }
    if (details.length) changes.push({ id, kind: "changed", type: now.type, name: now.name, details });
  }
  for (const [id, now] of after) {
    if (!before.has(id)) changes.push({ id, kind: "added", type: now.type, name: now.name, details: [] });
  }
  return changes;
}

function mark(diagram: Diagram, changes: ElementChange[], kinds: ChangeKind[]): void {
  const canvas = diagram.get<Canvas>("canvas");
  const registry = diagram.get<ElementRegistry>("elementRegistry");
  for (const change of changes) {
    if (kinds.includes(change.kind) && registry.get(change.id)) canvas.addMarker(change.id, `mom-diff-${change.kind}`);
  }
}

/** Show versions ``older`` and ``newer`` of ``processId`` in ``container``; returns a cleanup. */
export async function showVersionDiff(container: HTMLElement, processId: string, older: number, newer: number): Promise<() => void> {
  const xmlOf = (v: number): Promise<string> =>
    get<string>(`/process-definitions/${encodeURIComponent(processId)}/versions/${v}/xml`);
  const [oldXml, newXml] = await Promise.all([xmlOf(older), xmlOf(newer)]);
  const changes = diffDiagrams(oldXml, newXml);
  const left = h("div", { class: "viewer diff-viewer", "data-testid": "diff-old" });
  const right = h("div", { class: "viewer diff-viewer", "data-testid": "diff-new" });
  clear(container,
    h("div", { class: "diff-head" }, h("h3", {}, `${processId}: v${older} → v${newer}`),
      h("span", { class: "legend" }, h("i", { class: "swatch removed" }), "removed ", h("i", { class: "swatch changed" }), "changed ",
        h("i", { class: "swatch added" }), "added")),
    h("div", { class: "diff-sides" },
      h("div", {}, h("h4", {}, `v${older}`), left), h("div", {}, h("h4", {}, `v${newer}`), right)),
    changes.length === 0 ? h("p", { class: "muted", "data-testid": "diff-none" }, "No element differs.")
      : h("ul", { class: "diff-list", "data-testid": "diff-list" }, changes.map((c) =>
        h("li", { class: c.kind, "data-testid": "diff-change", "data-element-id": c.id, "data-kind": c.kind },
          h("b", {}, c.kind), ` ${c.type} ${c.name ? `“${c.name}” ` : ""}[${c.id}]`,
          c.details.length ? h("ul", {}, c.details.map((d) => h("li", {}, d))) : null))));
  const viewers = [await showDiagram(left, oldXml), await showDiagram(right, newXml)];
  mark(viewers[0], changes, ["removed", "changed"]);
  mark(viewers[1], changes, ["added", "changed"]);
  return () => viewers.forEach((v) => v.destroy());
}
