/** Pictures drawn in the browser as SVG: the schedule's Gantt chart and OEE bars (no chart library). */

import type { OeeFigures, Schedule } from "./dashboard-types";

const SVG = "http://www.w3.org/2000/svg";

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K, attrs: Record<string, string | number | null | undefined> = {}, ...children: (SVGElement | string)[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  for (const child of children) element.append(child);
  return element;
}

function titled<T extends SVGElement>(element: T, text: string): T {
  element.append(svg("title", {}, text));
  return element;
}

/** A readable step for the time axis: about 8 ticks over ``span`` seconds. */
function tickStep(span: number): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400];
  return steps.find((s) => span / s <= 8) ?? 86400;
}

function clock(at: Date, withSeconds: boolean): string {
  return at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: withSeconds ? "2-digit" : undefined });
}

/** One row per work unit, one bar per operation (coloured by job order), setups lighter, downtimes grey. */
export function ganttChart(plan: Schedule, names: Record<string, string> = {}): SVGSVGElement {
  const row = 34, left = 150, top = 26, width = 1100, right = 20;
  const units = plan.work_units;
  const height = top + Math.max(units.length, 1) * row + 10;
  const span = Math.max(1, plan.end - plan.start);
  const scale = (width - left - right) / span;
  const x = (t: number): number => left + (t - plan.start) * scale;
  const origin = new Date(plan.planned_at);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "gantt", role: "img",
    "aria-label": `schedule of ${plan.bars.length} operations on ${units.length} work units`, "data-testid": "gantt" });

  const step = tickStep(span);
  for (let t = Math.ceil(plan.start / step) * step; t <= plan.end; t += step) {
    chart.append(svg("line", { x1: x(t), x2: x(t), y1: top - 4, y2: height - 10, class: "grid" }),
      svg("text", { x: x(t), y: top - 10, class: "tick", "text-anchor": "middle" },
        clock(new Date(origin.getTime() + t * 1000), step < 60)));
  }
  units.forEach((unit, i) => {
    const y = top + i * row;
    chart.append(svg("rect", { x: 0, y, width, height: row, class: i % 2 ? "lane odd" : "lane" }),
      svg("text", { x: 8, y: y + row / 2 + 4, class: "unit" }, names[unit] ?? unit.split(".").pop() ?? unit));
  });
  const rowOf = (unit: string): number => Math.max(0, units.indexOf(unit));
  for (const down of plan.downtimes) {
    const y = top + rowOf(down.work_unit) * row + 4;
    chart.append(titled(svg("rect", { x: x(down.start), y, width: Math.max(1, (down.end - down.start) * scale),
      height: row - 8, class: "downtime" }), `downtime ${down.reason}`));
  }
  for (const bar of plan.bars) {
    const y = top + rowOf(bar.work_unit) * row + 5;
    const from = new Date(origin.getTime() + bar.start * 1000), to = new Date(origin.getTime() + bar.end * 1000);
    const group = svg("g", { class: bar.fixed ? "bar fixed" : "bar", "data-job-order": bar.job_order });
    if (bar.setup > 0) {
      group.append(svg("rect", { x: x(bar.start - bar.setup), y, width: bar.setup * scale, height: row - 10,
        fill: bar.colour, opacity: 0.35, rx: 3 }));
    }
    const w = Math.max(2, (bar.end - bar.start) * scale);
    group.append(svg("rect", { x: x(bar.start), y, width: w, height: row - 10, fill: bar.colour, rx: 3 }));
    const label = `${bar.job_order} · ${bar.operation}`;
    if (w > label.length * 6.5) group.append(svg("text", { x: x(bar.start) + 5, y: y + row / 2, class: "label" }, label));
    chart.append(titled(group, `${label} on ${bar.work_unit}\n${clock(from, true)} – ${clock(to, true)}`));
  }
  return chart;
}

const MEASURES: { key: keyof OeeFigures; label: string; colour: string }[] = [
  { key: "availability", label: "Availability", colour: "#0b5cad" },
  { key: "effectiveness", label: "Performance", colour: "#7b4fc9" },
  { key: "quality_ratio", label: "Quality", colour: "#1e7d32" },
  { key: "oee", label: "OEE", colour: "#1d2733" },
];

/** One group of four horizontal bars (availability, performance, quality, OEE) per work unit and shift. */
export function oeeBars(figures: OeeFigures[]): SVGSVGElement {
  const bar = 16, gap = 3, groupGap = 18, left = 210, width = 760, top = 24;
  const group = MEASURES.length * (bar + gap) + groupGap;
  const height = top + figures.length * group + 10;
  const scale = (width - left - 70) / 1;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "oee-bars", role: "img",
    "aria-label": "OEE per work unit and shift", "data-testid": "oee-chart" });
  MEASURES.forEach((m, i) => chart.append(
    svg("rect", { x: left + i * 120, y: 4, width: 12, height: 12, fill: m.colour }),
    svg("text", { x: left + i * 120 + 16, y: 14, class: "legend" }, m.label)));
  for (const pct of [0, 0.5, 1]) {
    chart.append(svg("line", { x1: left + pct * scale, x2: left + pct * scale, y1: top, y2: height - 8, class: "grid" }));
  }
  figures.forEach((f, k) => {
    const y0 = top + k * group;
    const unit = f.work_unit.split(".").pop() ?? f.work_unit;
    chart.append(svg("text", { x: 8, y: y0 + 2 * (bar + gap), class: "unit" }, unit),
      svg("text", { x: 8, y: y0 + 2 * (bar + gap) + 16, class: "shift" }, `shift ${f.shift}`));
    MEASURES.forEach((m, i) => {
      const value = f[m.key] as number | null;
      const y = y0 + i * (bar + gap);
      chart.append(svg("rect", { x: left, y, width: scale, height: bar, class: "track" }));
      if (value !== null) {
        chart.append(titled(svg("rect", { x: left, y, width: Math.max(1, Math.min(value, 1.2) * scale), height: bar,
          fill: m.colour, "data-measure": `${unit}:${f.shift}:${String(m.key)}` }), `${m.label} ${(value * 100).toFixed(1)} %`));
      }
      chart.append(svg("text", { x: left + scale + 6, y: y + bar - 3, class: "value" },
        value === null ? "n/a" : `${(value * 100).toFixed(1)} %`));
    });
  });
  return chart;
}
