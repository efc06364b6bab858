/**
 * The JSON report: the run result as is, with a format marker so readers can check what they
 * parse, and the run's counts per verdict (warnings among them) for summaries.
 */
import { type RunResult, tally } from "../model.js";

export const JSON_REPORT_FORMAT = "cozy-proxmox/stage-report@1";

export function renderJson(run: RunResult): string {
  const summary = tally(run.stages.flatMap((s) => s.checks));
  return `${JSON.stringify({ format: JSON_REPORT_FORMAT, summary, ...run }, null, 2)}\n`;
}
