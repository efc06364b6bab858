/**
 * Global setup of the integration tier: finds (or builds, where Go is on PATH) every Go binary
 * the tests start, once, before any test file runs. Files run four at a time, and without
 * this each file that needs a missing binary would build the same one at once on a new
 * machine. Where neither the cache nor Go has them, the tests that need them skip loudly.
 */
import { spawnSync } from "node:child_process";
import { cachedMgmtBinaries, ensureMgmtBinaries } from "../../mgmt/index.js";

export default async function setup(): Promise<void> {
  if ("missing" in cachedMgmtBinaries() && spawnSync("go", ["version"]).status !== 0) return;
  await ensureMgmtBinaries({ log: (line) => console.log(`[binaries] ${line}`) });
}
