/**
 * Migration of a process's running instances to another deployed version (engineers): first a check
 * (each instance's history replayed against the target version: safe, or unsafe and why), then the
 * move of the safe ones only, with a reason kept in the audit trail (POST /instances/migrations).
 */

import { post } from "../api";
import { h, clear, notice, errorText } from "../dom";

interface Verdict {
  instance_id: string;
  safe: boolean;
  migrated: boolean;
  reasons: string[];
}

interface Migration {
  to_version: number;
  dry_run: boolean;
  verdicts: Verdict[];
}

export function migrationControls(pid: string, versions: number[]): HTMLElement | null {
  if (versions.length < 2) return null;
  const sorted = [...versions].sort((a, b) => a - b);
  const target = h("select", { "data-testid": "migrate-to" },
    sorted.map((n) => h("option", { value: n, selected: n === sorted[sorted.length - 1] }, `v${n}`)));
  const reason = h("input", { placeholder: "why (kept in the audit trail)", "data-testid": "migrate-reason" });
  const report = h("div", { "data-testid": "migration-report" });
  const move = h("button", { class: "primary", "data-testid": "migrate-safe", hidden: true }, "Migrate the safe ones");

  async function run(dryRun: boolean): Promise<void> {
    if (!dryRun && reason.value.trim().length < 2) { notice(report, "error", "reason: say why the instances move"); return; }
    notice(report, "info", dryRun ? "Replaying every running instance against the version…" : "Migrating…");
    try {
      const result = await post<Migration>("/instances/migrations", { process_id: pid, to_version: Number(target.value),
        dry_run: dryRun, reason: reason.value.trim() || null });
      show(result);
    } catch (error) {
      notice(report, "error", errorText(error));
    }
  }

  function show(result: Migration): void {
    const safe = result.verdicts.filter((v) => v.safe).length;
    const summary = result.dry_run
      ? `${result.verdicts.length} running, ${safe} safe to move to v${result.to_version}`
      : `${result.verdicts.filter((v) => v.migrated).length} moved to v${result.to_version}`;
    clear(report, h("p", { "data-testid": "migration-summary" }, summary),
      result.verdicts.length ? h("table", { class: "grid compact", "data-testid": "migration-verdicts" },
        h("thead", {}, h("tr", {}, ["Instance", "Verdict", "Why"].map((c) => h("th", {}, c)))),
        h("tbody", {}, result.verdicts.map((v) => h("tr", { "data-instance": v.instance_id },
          h("td", {}, h("a", { href: `#/instances/${encodeURIComponent(v.instance_id)}` }, v.instance_id)),
          h("td", {}, h("span", { class: `badge ${v.safe ? "completed" : "failed"}` },
            v.migrated ? "migrated" : v.safe ? "safe" : "unsafe")),
          h("td", {}, v.reasons.join("; ") || "–"))))) : null);
    move.hidden = !(result.dry_run && safe > 0);
  }

  move.addEventListener("click", () => void run(false));
  target.addEventListener("change", () => { move.hidden = true; report.replaceChildren(); });
  return h("div", { class: "migration", "data-testid": "migration" },
    h("h3", {}, "Running instances"),
    h("div", { class: "compare" }, "Move to", target, reason,
      h("button", { "data-testid": "migrate-check", onclick: () => void run(true) }, "Check")),
    move, report);
}
