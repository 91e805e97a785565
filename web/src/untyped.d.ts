// Packages of the bpmn.io toolkit that ship no type declarations.
declare module "bpmn-js-properties-panel" {
  export const BpmnPropertiesPanelModule: import("didi").ModuleDeclaration;
  export const BpmnPropertiesProviderModule: import("didi").ModuleDeclaration;
  export const ZeebePropertiesProviderModule: import("didi").ModuleDeclaration;
}
declare module "camunda-bpmn-js-behaviors/lib/camunda-cloud" {
  const module: import("didi").ModuleDeclaration;
  export default module;
}
declare module "zeebe-bpmn-moddle/resources/zeebe.json" {
  const descriptor: Record<string, unknown>;
  export default descriptor;
}
declare module "bpmn-auto-layout" {
  export function layoutProcess(xml: string): Promise<string>;
}
