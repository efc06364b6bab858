/** The JSON report: the run result as is, with a format marker so readers can check what they parse. */
import type { RunResult } from "../model.js";

export const JSON_REPORT_FORMAT = "cozy-proxmox/stage-report@1";

export function renderJson(run: RunResult): string {
  return `${JSON.stringify({ format: JSON_REPORT_FORMAT, ...run }, null, 2)}\n`;
}
