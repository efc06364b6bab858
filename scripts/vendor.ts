#!/usr/bin/env tsx
/**
 * `npm run vendor [-- --skip-charts]`: puts the pinned upstream artifacts of the CozyStack
 * overlay into .cache/vendor. capmox and in-cluster IPAM release assets come from
 * ../shared/reference/vendor when present (else their pinned GitHub URLs); the Proxmox CSI
 * and CCM charts are pulled with helm from ghcr.io. Every artifact is checked against its
 * SHA-256; a mismatch stops the step with exit code 1 and nothing unverified is written.
 */
import { parseArgs } from "node:util";
import { chartLockPath, defaultVendorDir, referenceVendorDir, vendorAll } from "../src/cozystack/index.js";
import { helmPath } from "../src/tools/helm.js";

const usage = "usage: npm run vendor [-- --skip-charts]";
let skipCharts = false;
try {
  const { values } = parseArgs({ options: { "skip-charts": { type: "boolean" }, help: { type: "boolean" } } });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  skipCharts = values["skip-charts"] === true;
} catch (err) {
  console.error(`${(err as Error).message}\n${usage}`);
  process.exit(2);
}

try {
  const results = await vendorAll({
    vendorDir: defaultVendorDir(),
    referenceDir: referenceVendorDir(),
    lockPath: chartLockPath(),
    helm: helmPath(),
    skipCharts,
    log: (line) => console.log(line),
  });
  console.log(`vendored ${results.length} artifact(s) into ${defaultVendorDir()}`);
} catch (err) {
  console.error(`vendor: ${(err as Error).message}`);
  process.exit(1);
}
