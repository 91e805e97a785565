/** Response bodies of the dashboards, test-run and history endpoints (api/routers/dashboards.py, lint.py). */

export interface MachineState {
  work_unit_id: number;
  work_unit: string;
  name: string;
  work_center: string | null;
  state: string | null;
  since: string | null;
  alarm: string | null;
  good_count: number | null;
  bad_count: number | null;
}

export interface OeeFigures {
  work_unit: string;
  shift: string;
  starts_at: string;
  ends_at: string;
  planned_busy_time_s: number;
  actual_production_time_s: number;
  actual_unit_down_time_s: number;
  produced_quantity: number;
  good_quantity: number;
  scrap_quantity: number;
  availability: number | null;
  effectiveness: number | null;
  quality_ratio: number | null;
  oee: number | null;
  down_by_state: Record<string, number>;
}

export interface GanttBar {
  work_unit: string;
  job_order: string;
  operation: string;
  start: number;
  end: number;
  setup: number;
  fixed: boolean;
  colour: string;
}

export interface Schedule {
  planned_at: string;
  status: string;
  work_units: string[];
  start: number;
  end: number;
  makespan: number;
  bars: GanttBar[];
  downtimes: { work_unit: string; start: number; end: number; reason: string }[];
}

export interface JobProgress {
  sequence: number;
  operation: string;
  status: string;
  work_unit: string | null;
  quantity: number;
  good: number;
  scrap: number;
}

export interface OrderProgress {
  order_number: string;
  status: string;
  quantity: number;
  unit: string;
  due_at: string | null;
  done: number;
  progress: number;
  jobs: JobProgress[];
}

export interface HistoryEntry {
  at: string;
  kind: string;
  name: string;
  element_id: string | null;
  detail: string | null;
}

export interface InstanceHistory {
  workflow_id: string;
  completed: string[];
  events: HistoryEntry[];
}

export interface TestRunOutcome {
  status: string;
  process_id: string;
  version: number | null;
  instance_id: string | null;
  variables: Record<string, unknown>;
  completed: string[];
  active: string[];
  pending_user_tasks: string[];
  incident: Record<string, unknown> | null;
  problems: string[];
}
