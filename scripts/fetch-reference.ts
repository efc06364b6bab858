#!/usr/bin/env tsx
/**
 * `npm run fetch-reference -- [--from <folder|archive.tar.gz|https-url>] [--cozystack-git <url|path>] [--skip-cozystack]`
 *
 * Fills the cache with data the project reads but does not own:
 * - `.cache/shared/reference`, for a clone without `../shared` beside it (`--from`);
 * - `.cache/cozystack/v0.37.10`, the parts of CozyStack's repository that the real-chart
 *   tests render and patch (from GitHub by default; `--cozystack-git` names a mirror or a
 *   local clone). Without it, those tests are skipped.
 * Exit 0 when done, 1 when a fetch or a check failed, 2 on usage errors.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { repoRoot } from "../src/paths.js";
import { cozystackCheckoutDir, cozystackPin, fetchCozystackCheckout, fetchReference, findCozystackCheckout } from "../src/reference/index.js";

const usage =
  "usage: npm run fetch-reference -- [--from <folder|archive.tar.gz|https-url>] [--cozystack-git <url|path>] [--skip-cozystack]";

function parse(): { from?: string; cozystackGit?: string; skipCozystack: boolean } {
  try {
    const { values } = parseArgs({
      options: { from: { type: "string" }, "cozystack-git": { type: "string" }, "skip-cozystack": { type: "boolean" }, help: { type: "boolean" } },
    });
    if (values.help) {
      console.log(usage);
      process.exit(0);
    }
    return { from: values.from, cozystackGit: values["cozystack-git"], skipCozystack: values["skip-cozystack"] === true };
  } catch (err) {
    console.error(`fetch-reference: ${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
}

const args = parse();
const log = (line: string): void => console.log(line);
try {
  const beside = resolve(repoRoot, "..", "shared", "reference");
  if (args.from) {
    await fetchReference({ from: args.from, log });
  } else if (existsSync(beside)) {
    log(`reference data: using ${beside}`);
  } else if (!existsSync(join(repoRoot, ".cache", "shared", "reference"))) {
    console.error(`fetch-reference: no reference data beside the project (${beside}); give --from <folder|archive.tar.gz|https-url>\n${usage}`);
    process.exit(1);
  }
  if (args.skipCozystack) {
    log("CozyStack checkout: skipped (--skip-cozystack)");
  } else if (!args.cozystackGit && findCozystackCheckout({})) {
    log(`CozyStack ${cozystackPin.version}: already in ${cozystackCheckoutDir({})}`);
  } else {
    await fetchCozystackCheckout({ source: args.cozystackGit, log });
  }
} catch (err) {
  console.error(`fetch-reference: ${(err as Error).message}`);
  process.exit(1);
}
