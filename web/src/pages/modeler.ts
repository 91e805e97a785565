/**
 * The modeler (process engineers): new diagram, open a file or a deployed version, edit with the
 * Camunda 8 (zeebe) properties panel, pick service-task types from the activity catalog, lint
 * (problems shown on the elements), test-run it on the simulated plant (modeler-trial.ts), deploy
 * a new version, compare two versions (version-diff.ts), start an instance of it.
 */

import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css";
import "@bpmn-io/properties-panel/dist/assets/properties-panel.css";

import Modeler from "bpmn-js/lib/Modeler";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  ZeebePropertiesProviderModule,
} from "bpmn-js-properties-panel";
import ZeebeBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-cloud";
import zeebeModdle from "zeebe-bpmn-moddle/resources/zeebe.json";

import { ApiError, get, post, query, request } from "../api";
import { formDesigner } from "../form-designer";
import { withLayout, type Canvas, type Diagram, type DiagramElement, type ElementRegistry, type Overlays } from "../diagram";
import { h, clear, notice, when, errorText } from "../dom";
import { hasRole } from "../session";
import type { Deployment, Instance, LintProblem, Page, ProcessDefinition, TaskType } from "../types";
import { showVersionDiff } from "../version-diff";
import { migrationControls } from "./modeler-migration";
import { testRunPanel } from "./modeler-trial";
import { taskTypePicker } from "./task-type-picker";

const NEW_DIAGRAM = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:modeler="http://camunda.org/schema/modeler/1.0"
  id="Definitions_new" targetNamespace="http://bpmn.io/schema/bpmn"
  modeler:executionPlatform="Camunda Cloud" modeler:executionPlatformVersion="8.5.0">
  <bpmn:process id="new_process" name="New process" isExecutable="true">
    <bpmn:startEvent id="start" name="Start" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram">
    <bpmndi:BPMNPlane id="plane" bpmnElement="new_process">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="180" y="160" width="36" height="36" /></bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>`;

export async function render(root: HTMLElement): Promise<() => void> {
  const canvasBox = h("div", { class: "modeler-canvas", "data-testid": "modeler-canvas" });
  const panelBox = h("div", { class: "properties" });
  const typeBox = h("div", { class: "task-type-box" });
  const status = h("div", { class: "status", "data-testid": "modeler-status" });
  const problemsBox = h("ul", { class: "problems", "data-testid": "lint-problems" });
  const historyBox = h("div", { class: "history", "data-testid": "history" });
  const startBox = h("div", { class: "start-box" });
  const fileInput = h("input", { type: "file", accept: ".bpmn,.xml", "data-testid": "open-file", class: "hidden" });
  const deployedSelect = h("select", { "data-testid": "deployed" }, h("option", { value: "" }, "Open deployed…"));
  const trialBox = h("section", { hidden: true });
  const diffBox = h("section", { hidden: true, "data-testid": "version-diff" });
  let fileName = "new_process.bpmn";
  let closeDiff: (() => void) | null = null;

  const modeler = new Modeler({
    container: canvasBox,
    propertiesPanel: { parent: panelBox },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, ZeebePropertiesProviderModule, ZeebeBehaviorsModule],
    moddleExtensions: { zeebe: zeebeModdle },
  }) as unknown as Diagram & { saveXML(options: { format: boolean }): Promise<{ xml?: string }>; on(event: string, fn: (e: { newSelection: DiagramElement[] }) => void): void };

  const trial = testRunPanel(modeler, currentXml);
  trialBox.append(trial.panel);

  const taskTypes = await get<TaskType[]>("/task-types").catch(() => [] as TaskType[]);
  const designer = formDesigner(modeler);
  modeler.on("selection.changed", (event) =>
    clear(typeBox, taskTypePicker(modeler, event.newSelection, taskTypes), designer.button(event.newSelection)));

  async function open(xml: string, name: string): Promise<void> {
    try {
      const laid = await withLayout(xml);
      await modeler.importXML(laid.xml);
      modeler.get<Canvas>("canvas").zoom("fit-viewport", "auto");
      fileName = name;
      trial.reset();
      clear(problemsBox);
      notice(status, "info", `Opened ${name}${laid.laidOut ? " (it had no layout: laid out automatically)" : ""}`);
      await showHistory(processId() ?? "");
    } catch (error) {
      notice(status, "error", `${name} cannot be opened: ${errorText(error)}`);
    }
  }

  function processId(): string | null {
    const process = modeler.get<ElementRegistry>("elementRegistry").getAll().find((e) => e.type === "bpmn:Process");
    return process?.businessObject.id ?? null;
  }

  async function currentXml(): Promise<string> {
    const { xml } = await modeler.saveXML({ format: true });
    return xml ?? "";
  }

  function showProblems(problems: LintProblem[]): void {
    const overlays = modeler.get<Overlays>("overlays");
    const canvas = modeler.get<Canvas>("canvas");
    const registry = modeler.get<ElementRegistry>("elementRegistry");
    overlays.remove({ type: "lint" });
    for (const element of registry.getAll()) canvas.removeMarker(element.id, "mom-lint-error");
    clear(problemsBox);
    for (const problem of problems) {
      const onDiagram = problem.element_id ? registry.get(problem.element_id) : undefined;
      if (onDiagram && problem.element_id) {
        canvas.addMarker(problem.element_id, "mom-lint-error");
        overlays.add(problem.element_id, "lint", {
          position: { top: -10, right: 10 },
          html: h("div", { class: `lint-badge ${problem.severity}`, title: problem.message, "data-lint-for": problem.element_id }, "!"),
        });
      }
      const where = problem.element_id ? `[${problem.element_id}]` : problem.line ? `line ${problem.line}` : "";
      problemsBox.append(h("li", { class: problem.severity, onclick: () => select(problem.element_id) },
        h("b", {}, where || "diagram"), ` ${problem.message}`));
    }
  }

  function select(elementId: string | null): void {
    const element = elementId ? modeler.get<ElementRegistry>("elementRegistry").get(elementId) : undefined;
    if (element) modeler.get<{ select(element: DiagramElement): void }>("selection").select(element);
  }

  async function lint(): Promise<boolean> {
    try {
      const result = await post<{ ok: boolean; problems: LintProblem[] }>(
        `/lint${query({ filename: fileName })}`, await currentXml(), "application/xml");
      showProblems(result.problems);
      notice(status, result.ok ? "ok" : "error", result.ok ? "No problems found" : `${result.problems.length} problem(s): see the marked elements`);
      return result.ok;
    } catch (error) {
      notice(status, "error", String(error instanceof Error ? error.message : error));
      return false;
    }
  }

  async function deploy(): Promise<void> {
    const xml = await currentXml();
    const form = new FormData();
    form.append("file", new Blob([xml], { type: "application/xml" }), fileName.endsWith(".bpmn") ? fileName : `${fileName}.bpmn`);
    try {
      const done = await request<Deployment>("POST", "/process-definitions", form);
      showProblems([]);
      notice(status, "ok", done.created
        ? `Deployed ${done.process_id} version ${done.version}`
        : `${done.process_id} is unchanged: version ${done.version} is already deployed`);
      await showHistory(done.process_id);
      await loadDeployed();
    } catch (error) {
      if (error instanceof ApiError && error.detail && typeof error.detail === "object" && "problems" in error.detail) {
        showProblems((error.detail as { problems: LintProblem[] }).problems);
      }
      notice(status, "error", `Not deployed: ${errorText(error)}`);
    }
  }

  async function showHistory(pid: string): Promise<void> {
    clear(historyBox);
    if (!pid) return;
    try {
      const versions = await get<Page<ProcessDefinition>>(`/process-definitions/${encodeURIComponent(pid)}/versions${query({ limit: 50 })}`);
      clear(historyBox, h("h3", {}, `Versions of ${pid}`), h("ol", { reversed: true },
        versions.items.map((v) => h("li", {},
          h("button", { class: "link", onclick: () => void openVersion(v.process_id, v.version) }, `v${v.version}`),
          ` ${when(v.deployed_at)} by ${v.deployed_by}`))), compareControls(pid, versions.items.map((v) => v.version)),
        hasRole("engineer") ? migrationControls(pid, versions.items.map((v) => v.version)) : null);
      startBox.hidden = versions.total === 0 || !hasRole("supervisor", "engineer");
    } catch {
      clear(historyBox, h("p", { class: "muted" }, `${pid} is not deployed yet`));
      startBox.hidden = true;
    }
  }

  function compareControls(pid: string, numbers: number[]): HTMLElement | null {
    if (numbers.length < 2) return null;
    const sorted = [...numbers].sort((a, b) => a - b);
    const choice = (testId: string, chosen: number): HTMLSelectElement => h("select", { "data-testid": testId },
      sorted.map((n) => h("option", { value: n, selected: n === chosen }, `v${n}`)));
    const older = choice("diff-from", sorted[sorted.length - 2]);
    const newer = choice("diff-to", sorted[sorted.length - 1]);
    return h("div", { class: "compare" }, "Compare", older, "with", newer,
      h("button", { "data-testid": "compare", onclick: () => void compare(pid, Number(older.value), Number(newer.value)) }, "Diff"));
  }

  async function compare(pid: string, older: number, newer: number): Promise<void> {
    closeDiff?.();
    closeDiff = null;
    diffBox.hidden = false;
    try {
      closeDiff = await showVersionDiff(diffBox, pid, older, newer);
      diffBox.scrollIntoView({ block: "start" });
    } catch (error) {
      notice(diffBox, "error", `Cannot compare: ${errorText(error)}`);
    }
  }

  async function openVersion(pid: string, version: number): Promise<void> {
    const xml = await get<string>(`/process-definitions/${encodeURIComponent(pid)}/versions/${version}/xml`);
    await open(xml, `${pid}.bpmn`);
    notice(status, "info", `Opened ${pid} version ${version}`);
  }

  async function loadDeployed(): Promise<void> {
    const page = await get<Page<ProcessDefinition>>(`/process-definitions${query({ latest_only: true, limit: 100 })}`).catch(() => null);
    clear(deployedSelect, h("option", { value: "" }, "Open deployed…"),
      (page?.items ?? []).filter((d) => !d.process_id.endsWith("__trial")).map((d) => h("option", { value: `${d.process_id}@${d.version}` }, `${d.name ?? d.process_id} (v${d.version})`)));
  }

  fileInput.addEventListener("change", async () => {
    const file = fileInput.files?.[0];
    if (file) await open(await file.text(), file.name);
    fileInput.value = "";
  });
  deployedSelect.addEventListener("change", () => {
    const [pid, version] = deployedSelect.value.split("@");
    if (pid) void openVersion(pid, Number(version));
    deployedSelect.value = "";
  });

  const variables = h("textarea", { rows: 3, "data-testid": "start-variables", placeholder: '{"order_id": "PO-1"}' }, "{}");
  const businessKey = h("input", { "data-testid": "start-business-key", placeholder: "business key (optional)" });
  const startStatus = h("div", { class: "status" });
  clear(startBox, h("h3", {}, "Start an instance"), h("label", {}, "Variables (JSON)", variables), businessKey,
    h("button", { "data-testid": "start-instance", onclick: async () => {
      try {
        const body = { process_id: processId(), variables: JSON.parse(variables.value || "{}"), business_key: businessKey.value || null };
        const started = await post<Instance>("/instances", body);
        clear(startStatus, h("a", { href: `#/instances/${encodeURIComponent(started.workflow_id)}`, "data-testid": "started-link" },
          `Started ${started.workflow_id}`));
      } catch (error) {
        notice(startStatus, "error", errorText(error));
      }
    } }, "Start"), startStatus);
  startBox.hidden = true;

  const download = async (): Promise<void> => {
    const link = h("a", { href: URL.createObjectURL(new Blob([await currentXml()], { type: "application/xml" })), download: fileName });
    link.click();
    URL.revokeObjectURL(link.href);
  };

  clear(root,
    h("div", { class: "toolbar" },
      h("button", { onclick: () => void open(NEW_DIAGRAM, "new_process.bpmn") }, "New"),
      h("button", { onclick: () => fileInput.click() }, "Open file…"), fileInput, deployedSelect,
      h("button", { onclick: () => void download() }, "Download"),
      h("span", { class: "spacer" }),
      h("button", { "data-testid": "lint", onclick: () => void lint() }, "Lint"),
      h("button", { "data-testid": "test-run", onclick: () => { trialBox.hidden = !trialBox.hidden; } }, "Test run…"),
      h("button", { class: "primary", "data-testid": "deploy", onclick: () => void deploy() }, "Deploy")),
    status,
    h("div", { class: "modeler" }, canvasBox,
      h("aside", { class: "side" }, typeBox, panelBox)),
    h("div", { class: "modeler-footer" }, h("div", {}, h("h3", {}, "Problems"), problemsBox), historyBox, startBox),
    h("div", { class: "modeler-extra" }, trialBox, diffBox), designer.dialog);

  await open(NEW_DIAGRAM, "new_process.bpmn");
  await loadDeployed();
  return () => {
    closeDiff?.();
    designer.close();
    modeler.destroy();
  };
}
