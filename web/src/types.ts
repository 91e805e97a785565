/** The API's response bodies, as the pages use them (see api/schemas/). */

export type Role = "engineer" | "supervisor" | "operator" | "admin";

export interface User {
  username: string;
  full_name: string | null;
  roles: Role[];
  groups: string[];
  work_centers: string[];
  must_change_password: boolean;
}

export interface Page<T> {
  items: T[];
  total: number;
  offset: number;
  limit: number;
}

export interface ProcessDefinition {
  process_id: string;
  version: number;
  name: string | null;
  sha256: string;
  deployed_by: string;
  deployed_at: string;
}

export interface Deployment {
  process_id: string;
  version: number;
  spec_sha256: string;
  created: boolean;
  definition: ProcessDefinition;
  warnings: string[];
}

export interface LintProblem {
  file: string;
  message: string;
  line: number | null;
  element_id: string | null;
  severity: string;
}

export interface TaskType {
  name: string;
  summary: string;
  runs: string;
  inputs: string[];
}

export interface Instance {
  workflow_id: string;
  process_id: string;
  version: number;
  business_key: string | null;
  status: string;
  started_by: string | null;
  started_at: string | null;
  ended_at: string | null;
  open_incident: boolean;
  active: string[];
}

export interface Incident {
  element_id?: string | null;
  message?: string;
  kind?: string | null;
  at?: string | null;
  /** kind "child": the called instance that has the incident (retried there) */
  child_workflow_id?: string | null;
}

export interface InstanceState {
  workflow_id: string;
  status: string;
  active: string[];
  completed: string[];
  variables: Record<string, unknown>;
  user_tasks: Record<string, unknown>[];
  incident: Incident | null;
  running_activities: string[];
}

export interface JsonSchema {
  type?: string;
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  unit?: string;
}

export interface Task {
  task_id: string;
  name: string;
  element_id: string;
  status: string;
  workflow_id: string | null;
  process_id: string | null;
  process_version: number | null;
  business_key: string | null;
  assignee: string | null;
  candidate_groups: string[];
  candidate_users: string[];
  lane: string | null;
  due_at: string | null;
  overdue: boolean;
  priority: number | null;
  form_schema: JsonSchema;
  documentation: string | null;
  context: Record<string, unknown>;
  four_eyes: boolean;
  requested_by: string | null;
  /** Completing it is an electronic signature with this meaning: the password is asked again. */
  signature?: string | null;
  created_at: string;
  completed_by: string | null;
}
