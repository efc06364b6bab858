#!/usr/bin/env node
// CI fails when a test was skipped that is not on this list: a skip must be a decision, not
// an accident (a missing binary, a module not in the cache, a variable CI forgot to set).
// Usage: node .ci/check-skips.mjs reports/vitest.json  (vitest's JSON reporter output)
import { readFileSync } from "node:fs";
import { relative } from "node:path";

/** Tests allowed to be skipped in CI, by file (relative to the repository) and, optionally, name. */
const allowed = [
  // Opt-in e2e: need a real Proxmox VE (E2E_PROXMOX=1 and PROXMOX_*) or tenant cluster (E2E_TENANT=1).
  { file: "src/tests/e2e/proxmox.test.ts" },
  { file: "src/tests/e2e/tenant-stages.test.ts" },
  // The installer-script patch needs a CozyStack v0.37.10 checkout (npm run fetch-reference or COZYSTACK_CHECKOUT).
  { file: "src/tests/integration/cozystack/real-checkout.test.ts" },
  // Fetching the pinned CozyStack release needs a git source (COZYSTACK_GIT).
  { file: "src/tests/integration/reference/fetch.test.ts", name: "fetches the pinned release from COZYSTACK_GIT" },
];

const skippedStatuses = new Set(["skipped", "pending", "todo"]);

/** The skipped tests of a vitest JSON report that no entry allows, as `file > full name`. */
function unexpectedSkips(report, root) {
  const found = [];
  for (const file of report.testResults ?? []) {
    const path = relative(root, file.name);
    for (const test of file.assertionResults ?? []) {
      if (!skippedStatuses.has(test.status)) continue;
      const ok = allowed.some((a) => a.file === path && (a.name === undefined || test.title === a.name));
      if (!ok) found.push(`${path} > ${test.fullName}`);
    }
  }
  return found;
}

const reportPath = process.argv[2] ?? "reports/vitest.json";
const unexpected = unexpectedSkips(JSON.parse(readFileSync(reportPath, "utf8")), process.cwd());
if (unexpected.length > 0) {
  console.error(`${unexpected.length} test(s) skipped that .ci/check-skips.mjs does not allow:`);
  for (const line of unexpected) console.error(`  ${line}`);
  console.error("make them run here, or add them to the list with the reason they cannot");
  process.exit(1);
}
console.log("skipped tests: only the allowed ones");
