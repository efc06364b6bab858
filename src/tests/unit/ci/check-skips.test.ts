/**
 * CI's skip check (.ci/check-skips.mjs) on vitest JSON reports: the allowed skips pass, any
 * other skipped test fails the run, named by file and full name.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../../paths.js";

const dir = mkdtempSync(join(tmpdir(), "check-skips-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Test = { title: string; fullName: string; status: string };
const file = (path: string, tests: Test[]) => ({ name: join(repoRoot, path), assertionResults: tests });
const test = (title: string, status: string, suite = "suite"): Test => ({ title, fullName: `${suite} ${title}`, status });

function check(report: unknown): { status: number | null; output: string } {
  const path = join(dir, `report-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(report));
  const run = spawnSync(process.execPath, [join(repoRoot, ".ci", "check-skips.mjs"), path], { cwd: repoRoot, encoding: "utf8" });
  return { status: run.status, output: run.stdout + run.stderr };
}

describe(".ci/check-skips.mjs", () => {
  it("passes the opt-in e2e tests, the checkout test and the COZYSTACK_GIT fetch", () => {
    const result = check({
      testResults: [
        file("src/tests/e2e/proxmox.test.ts", [test("stage 1 passes", "skipped")]),
        file("src/tests/integration/cozystack/real-checkout.test.ts", [test("the patch applies", "skipped")]),
        file("src/tests/integration/reference/fetch.test.ts", [test("fetches the pinned release from COZYSTACK_GIT", "skipped"), test("names a bad --from", "passed")]),
      ],
    });
    expect(result).toEqual({ status: 0, output: "skipped tests: only the allowed ones\n" });
  });

  it("fails on any other skipped, pending or todo test, naming each", () => {
    const result = check({
      testResults: [
        file("src/tests/unit/mgmt/components.test.ts", [test("installs every CRD", "skipped", "management components")]),
        file("src/tests/integration/reference/fetch.test.ts", [test("copies a shared/ folder", "pending")]),
        file("src/tests/unit/config/load.test.ts", [test("something later", "todo"), test("loads", "passed")]),
      ],
    });
    expect(result.status).toBe(1);
    expect(result.output).toContain("3 test(s) skipped that .ci/check-skips.mjs does not allow");
    expect(result.output).toContain("src/tests/unit/mgmt/components.test.ts > management components installs every CRD");
    expect(result.output).toContain("src/tests/integration/reference/fetch.test.ts > suite copies a shared/ folder");
    expect(result.output).toContain("src/tests/unit/config/load.test.ts > suite something later");
  });
});
