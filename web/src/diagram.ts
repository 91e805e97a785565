/** bpmn-js services the pages use, typed narrowly, and the instance highlighting. */

import { layoutProcess } from "bpmn-auto-layout";
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

export interface Canvas {
  addMarker(element: string, marker: string): void;
  removeMarker(element: string, marker: string): void;
  zoom(level: "fit-viewport" | number, center?: "auto"): number;
}

export interface ElementRegistry {
  get(id: string): DiagramElement | undefined;
  getAll(): DiagramElement[];
}

export interface DiagramElement {
  id: string;
  type: string;
  businessObject: BusinessObject;
}

export interface BusinessObject {
  id: string;
  $type: string;
  name?: string;
  extensionElements?: BusinessObject & { values: BusinessObject[] };
  [key: string]: unknown;
}

export interface Overlays {
  add(element: string, type: string, overlay: { position: Record<string, number>; html: HTMLElement | string }): string;
  remove(filter: { type?: string; element?: string }): void;
}

export interface Diagram {
  importXML(xml: string): Promise<{ warnings: unknown[] }>;
  get<T>(service: string): T;
  destroy(): void;
}

export const MARKERS = { done: "mom-done", active: "mom-active", incident: "mom-incident" } as const;

/** Diagrams written without a layout (no BPMNDiagram, e.g. by hand or by SpiffWorkflow tools) are laid out. */
export async function withLayout(xml: string): Promise<{ xml: string; laidOut: boolean }> {
  if (/<([A-Za-z0-9_-]+:)?BPMNShape\b/.test(xml)) return { xml, laidOut: false };
  return { xml: await layoutProcess(xml), laidOut: true };
}

/** A read-only diagram the user can pan and zoom. */
export async function showDiagram(container: HTMLElement, xml: string): Promise<Diagram> {
  const viewer = new NavigatedViewer({ container }) as unknown as Diagram;
  await viewer.importXML((await withLayout(xml)).xml);
  viewer.get<Canvas>("canvas").zoom("fit-viewport", "auto");
  return viewer;
}

/** Mark completed, active and failed elements (sequence flows between completed ones too). */
export function highlight(diagram: Diagram, completed: string[], active: string[], incident: string | null): void {
  const canvas = diagram.get<Canvas>("canvas");
  const registry = diagram.get<ElementRegistry>("elementRegistry");
  const done = new Set(completed);
  const running = new Set(active);
  for (const element of registry.getAll()) {
    const bo = element.businessObject as BusinessObject & { sourceRef?: { id: string }; targetRef?: { id: string } };
    let isDone = done.has(element.id) && !running.has(element.id);
    if (element.type === "bpmn:SequenceFlow" && bo.sourceRef && bo.targetRef) {
      isDone = done.has(bo.sourceRef.id) && (done.has(bo.targetRef.id) || running.has(bo.targetRef.id));
    }
    toggle(canvas, element.id, MARKERS.done, isDone);
    toggle(canvas, element.id, MARKERS.active, running.has(element.id));
    toggle(canvas, element.id, MARKERS.incident, element.id === incident);
  }
}

function toggle(canvas: Canvas, id: string, marker: string, on: boolean): void {
  if (on) canvas.addMarker(id, marker);
  else canvas.removeMarker(id, marker);
}
