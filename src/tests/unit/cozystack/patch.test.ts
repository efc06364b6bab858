import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkoutPatches, hunkSides, renderPatch } from "../../../cozystack/index.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "patch-test-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Each patched file as the hunk's old side, at its original line numbers. */
function writeOldSides(): void {
  for (const p of checkoutPatches) {
    const h = p.hunks[0]!;
    const filler = Array.from({ length: h.oldStart - 1 }, (_, i) => `# line ${i + 1}`);
    mkdirSync(dirname(join(dir, p.path)), { recursive: true });
    writeFileSync(join(dir, p.path), `${[...filler, ...hunkSides(h).before].join("\n")}\n`);
  }
}

const installerAfter = (): string => hunkSides(checkoutPatches.find((p) => p.path === "scripts/installer.sh")!.hunks[0]!).after.join("\n");

/** Runs the patched install_basic_charts with `make` recording its arguments. */
function basicCharts(bundle: string): string {
  const script = `make() { echo "make $*"; }\nBUNDLE=${bundle}\n${installerAfter()}\ninstall_basic_charts\n`;
  return execFileSync("sh", ["-c", script], { encoding: "utf8" }).trim();
}

describe("checkout patch", () => {
  it("is a well-formed unified diff that git applies", () => {
    writeOldSides();
    const patch = join(dir, "paas-proxmox.patch");
    writeFileSync(patch, renderPatch());
    execFileSync("git", ["apply", "--check", patch], { cwd: dir });
    execFileSync("git", ["apply", patch], { cwd: dir });
    for (const p of checkoutPatches) {
      expect(readFileSync(join(dir, p.path), "utf8")).toContain(hunkSides(p.hunks[0]!).after.join("\n"));
    }
    expect(renderPatch()).toMatch(/^@@ -52,8 \+52,8 @@ wait_for_crds\(\) \{$/m);
    expect(renderPatch()).toMatch(/^@@ -1,4 \+1,7 @@$/m);
  });

  it("makes the installer put cilium and kube-ovn in before Flux for paas-proxmox", () => {
    expect(basicCharts("paas-proxmox")).toBe("make -C packages/system/cilium apply resume\nmake -C packages/system/kubeovn apply resume");
    expect(basicCharts("paas-full")).toBe("make -C packages/system/cilium apply resume\nmake -C packages/system/kubeovn apply resume");
    expect(basicCharts("distro-full")).toBe("make -C packages/system/cilium apply resume");
    expect(basicCharts("paas-hosted")).toBe("");
  });
});
