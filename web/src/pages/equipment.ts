/**
 * Equipment (engineers edit, supervisors read): the ISA-95 hierarchy — enterprise, site, area, work
 * center, work unit — as a tree. For the maintenance engineer commissioning a machine: add the work
 * unit under its work center, say where the edge worker reaches its OPC UA server (endpoint, namespace,
 * security) and bind its roles (state, counters, methods) to nodes; a setpoint (role Setpoints.Pressure)
 * takes its engineering limits, outside which no value is written to the machine. Errors name the field.
 */

import { ApiError, get, post, request } from "../api";
import { h, clear, notice, errorText } from "../dom";
import { hasRole } from "../session";
import type { Page } from "../types";

type Level = "enterprise" | "site" | "area" | "work_center" | "work_unit";

interface Binding {
  name: string; node_id: string; data_type: string | null; access: string;
  min_value: number | null; max_value: number | null;
}

interface Equipment {
  id: number;
  name: string;
  level: Level;
  path: string;
  parent_id: number | null;
  description: string | null;
  time_zone: string | null;
  opcua_endpoint: { url: string; namespace_uri: string | null; security_policy: string; security_mode: string } | null;
  node_bindings: Binding[];
}

const LEVELS: Level[] = ["enterprise", "site", "area", "work_center", "work_unit"];
const LABEL: Record<Level, string> = { enterprise: "enterprise", site: "site", area: "area", work_center: "work center", work_unit: "work unit" };

/** 422 details of pydantic, one line a field: "url: String should match ..." */
function fieldErrors(error: unknown): string {
  if (error instanceof ApiError && error.status === 422 && Array.isArray(error.detail)) {
    return (error.detail as { loc?: (string | number)[]; msg?: string }[])
      .map((d) => `${(d.loc ?? []).slice(1).join(".") || "request"}: ${d.msg}`).join("; ");
  }
  return errorText(error);
}

export function render(root: HTMLElement, args: string[]): void {
  const tree = h("ul", { class: "equipment-tree", "data-testid": "equipment-tree" });
  const detail = h("section", { class: "equipment-detail card", "data-testid": "equipment-detail" });
  const status = h("div", { class: "status" });
  const editable = hasRole("engineer");
  let nodes: Equipment[] = [];

  async function load(select?: number): Promise<void> {
    try {
      nodes = (await get<Page<Equipment>>("/equipment?limit=500")).items;
    } catch (error) {
      notice(status, "error", errorText(error));
      return;
    }
    const children = (parent: number | null): Equipment[] => nodes.filter((n) => n.parent_id === parent);
    const branch = (node: Equipment): HTMLElement => h("li", {},
      h("a", { href: `#/equipment/${node.id}`, "data-path": node.path, class: node.id === select ? "active" : null },
        node.name, h("small", { class: "muted" }, ` ${LABEL[node.level]}`),
        node.level === "work_unit" && !node.opcua_endpoint ? h("span", { class: "badge held", title: "no OPC UA endpoint yet" }, "not connected") : null),
      children(node.id).length ? h("ul", {}, children(node.id).map(branch)) : null);
    clear(tree, children(null).map(branch));
    if (nodes.length === 0) tree.append(h("li", { class: "muted" }, "No equipment yet."));
    const chosen = nodes.find((n) => n.id === select);
    if (chosen) show(chosen);
    else clear(detail, h("p", { class: "muted" }, "Choose a node of the plant."), editable ? addChild(null) : null);
  }

  function show(node: Equipment): void {
    clear(detail,
      h("h2", {}, node.name, h("small", { class: "muted" }, ` ${LABEL[node.level]}`)),
      h("p", { class: "muted", "data-testid": "equipment-path" }, node.path),
      node.description ? h("p", {}, node.description) : null,
      node.time_zone ? h("p", {}, `Time zone: ${node.time_zone}`) : null,
      node.level === "work_unit" ? connection(node) : null,
      editable && node.level !== "work_unit" ? addChild(node) : null);
  }

  function addChild(parent: Equipment | null): HTMLElement {
    const level = parent ? LEVELS[LEVELS.indexOf(parent.level) + 1] : "enterprise";
    const name = h("input", { name: "name", "data-testid": "new-equipment-name", placeholder: level === "work_unit" ? "Press2" : "name" });
    const zone = h("input", { name: "time_zone", placeholder: "Europe/Paris" });
    const result = h("div", { class: "status", "data-testid": "equipment-result" });
    const form = h("form", { class: "task-form", "data-testid": "add-equipment" },
      h("h3", {}, `Add a ${LABEL[level]}${parent ? ` under ${parent.name}` : ""}`),
      h("label", {}, "Name (no '.')", name),
      level === "site" ? h("label", {}, "Time zone", zone) : null,
      h("button", { type: "submit", class: "primary" }, `Add ${LABEL[level]}`), result);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const created = await post<Equipment>("/equipment", { name: name.value.trim(), level, parent_id: parent?.id ?? null,
          time_zone: level === "site" ? zone.value.trim() || null : null });
        location.hash = `#/equipment/${created.id}`;
      } catch (error) {
        notice(result, "error", fieldErrors(error));
      }
    });
    return form;
  }

  function connection(unit: Equipment): HTMLElement {
    const endpoint = unit.opcua_endpoint;
    const input = (name: string, value: string, placeholder = ""): HTMLInputElement =>
      h("input", { name, value, placeholder, disabled: !editable, "data-testid": `endpoint-${name}` });
    const url = input("url", endpoint?.url ?? "", "opc.tcp://10.0.4.21:4840/");
    const namespace = input("namespace_uri", endpoint?.namespace_uri ?? "", "urn:vendor:press");
    const policy = h("select", { name: "security_policy", disabled: !editable },
      ["None", "Basic256Sha256"].map((p) => h("option", { value: p, selected: endpoint?.security_policy === p }, p)));
    const mode = h("select", { name: "security_mode", disabled: !editable },
      ["None", "Sign", "SignAndEncrypt"].map((m) => h("option", { value: m, selected: endpoint?.security_mode === m }, m)));
    const endpointResult = h("div", { class: "status", "data-testid": "endpoint-result" });
    const endpointForm = h("form", { class: "task-form", "data-testid": "endpoint-form" },
      h("h3", {}, "OPC UA server (reached from the site's edge worker)"),
      h("label", {}, "Endpoint URL", url), h("label", {}, "Namespace URI", namespace),
      h("div", { class: "toolbar" }, h("label", {}, "Security policy", policy), h("label", {}, "Mode", mode)),
      editable ? h("button", { type: "submit", class: "primary" }, "Save endpoint") : null, endpointResult);
    endpointForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await request("PUT", `/equipment/${unit.id}/opcua-endpoint`, { url: url.value.trim(),
          namespace_uri: namespace.value.trim() || null, security_policy: policy.value, security_mode: mode.value });
        await load(unit.id);
        notice(detail.querySelector<HTMLElement>("[data-testid=endpoint-result]")!, "ok", "Endpoint saved.");
      } catch (error) {
        notice(endpointResult, "error", fieldErrors(error));
      }
    });

    const role = h("input", { name: "role", placeholder: "state, good_count, start ...", "data-testid": "binding-role" });
    const nodeId = h("input", { name: "node_id", placeholder: "nsu=urn:vendor:press;s=Press2.State", "data-testid": "binding-node" });
    const access = h("select", { name: "access", "data-testid": "binding-access" },
      ["read", "write", "read_write", "method"].map((a) => h("option", { value: a }, a)));
    const limit = (name: string, placeholder: string): HTMLInputElement =>
      h("input", { name, placeholder, inputmode: "decimal", size: 8, "data-testid": `binding-${name}`,
        title: "engineering limit: no value beyond it is written to the machine (empty: none)" });
    const low = limit("min_value", "min");
    const high = limit("max_value", "max");
    const bindingResult = h("div", { class: "status", "data-testid": "binding-result" });
    const bindingForm = h("form", { class: "toolbar", "data-testid": "binding-form" }, role, nodeId, access, low, high,
      h("button", { type: "submit" }, "Bind"));
    /** The limit typed in ``input``: null when empty, else a finite number; throws naming the field. */
    const bound = (input: HTMLInputElement): number | null => {
      const text = input.value.trim();
      if (!text) return null;
      const value = Number(text);
      if (!Number.isFinite(value)) throw new Error(`${input.name}: ${JSON.stringify(text)} is not a finite number`);
      return value;
    };
    bindingForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!role.value.trim()) { notice(bindingResult, "error", "role: name what the node is for (state, good_count ...)"); return; }
      let limits: { min_value: number | null; max_value: number | null };
      try {
        limits = { min_value: bound(low), max_value: bound(high) };
      } catch (error) {
        notice(bindingResult, "error", (error as Error).message);
        return;
      }
      try {
        await request("PUT", `/equipment/${unit.id}/node-bindings/${encodeURIComponent(role.value.trim())}`,
          { node_id: nodeId.value.trim(), access: access.value, ...limits });
        await load(unit.id);
        notice(detail.querySelector<HTMLElement>("[data-testid=binding-result]")!, "ok", `${role.value.trim()} bound.`);
      } catch (error) {
        notice(bindingResult, "error", error instanceof ApiError && error.status === 422 && String(error.message).includes("path")
          ? "role: letters, digits, '_', '.' and '-', starting with a letter" : fieldErrors(error));
      }
    });
    return h("div", {},
      endpointForm,
      h("h3", {}, "Node bindings"),
      unit.node_bindings.length
        ? h("table", { class: "grid compact", "data-testid": "bindings" },
          h("thead", {}, h("tr", {}, ["Role", "Node", "Access", "Limits"].map((c) => h("th", {}, c)))),
          h("tbody", {}, unit.node_bindings.map((b) => h("tr", { "data-binding": b.name },
            h("td", {}, b.name), h("td", {}, h("code", {}, b.node_id)), h("td", {}, b.access),
            h("td", { "data-testid": "binding-limits" }, b.min_value === null && b.max_value === null ? ""
              : `${b.min_value ?? "−∞"} .. ${b.max_value ?? "∞"}`)))))
        : h("p", { class: "muted", "data-testid": "bindings" }, "No node bound yet."),
      editable ? bindingForm : null, bindingResult);
  }

  clear(root, status, h("div", { class: "equipment" }, h("nav", { class: "card" }, tree), detail));
  void load(args[0] ? Number(args[0]) : undefined);
}
