/**
 * The overlay's patch against CozyStack v0.37.10's installer script, which the reference
 * release files do not carry. Opt-in: needs the checkout that `npm run fetch-reference` puts
 * in .cache/cozystack (GitHub is not reachable from CI here), or COZYSTACK_CHECKOUT pointing
 * at a clone of v0.37.10; without it the suite is skipped and says so. Everything else of
 * the release (platform chart, resource definitions, component CRDs) is tested on every run
 * from shared/reference: platform-chart.test.ts and release-files.test.ts.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findCozystackCheckout } from "../../../reference/index.js";
import { renderPatch } from "../../../cozystack/index.js";

const checkout = findCozystackCheckout();
if (!checkout) {
  console.log(
    "[real-checkout] SKIPPED: the installer patch test needs CozyStack v0.37.10's scripts/installer.sh, which shared/reference does not carry; " +
      "run `npm run fetch-reference` (or set COZYSTACK_CHECKOUT to a v0.37.10 clone) to run it",
  );
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "real-checkout-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!checkout)("the overlay patch on a CozyStack v0.37.10 checkout (opt-in)", () => {
  it("the whole patch applies to the release; the patched installer script parses and installs the CNI for paas-proxmox", async () => {
    const tree = mkdtempSync(join(tmp, "tree-"));
    cpSync(checkout!, tree, { recursive: true });
    const patch = join(tmp, "paas-proxmox.patch");
    writeFileSync(patch, renderPatch());
    await execa("git", ["apply", "--check", patch], { cwd: tree });
    await execa("git", ["apply", patch], { cwd: tree });
    await execa("bash", ["-n", "scripts/installer.sh"], { cwd: tree });
    expect(readFileSync(join(tree, "scripts/installer.sh"), "utf8")).toMatch(/"\$BUNDLE" = "paas-proxmox"/);
  });
});
