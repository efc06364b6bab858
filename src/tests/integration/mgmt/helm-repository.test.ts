/**
 * The loopback Helm repository source-controller reads: charts packaged by the real
 * `helm package`, an index by the real `helm repo index` that names each package with its
 * digest and URL, older versions kept when a new one is published, nothing served outside
 * the repository folder.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { parse } from "yaml";
import { HelmRepositoryServer } from "../../../mgmt/index.js";

const chart = (version: string): Map<string, string> =>
  new Map([
    ["Chart.yaml", `apiVersion: v2\nname: demo\nversion: ${version}\n`],
    ["templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n"],
  ]);

interface IndexEntry {
  readonly version: string;
  readonly digest: string;
  readonly urls: readonly string[];
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

test("publishes packaged charts under an index helm writes, keeping older versions", async () => {
  const dir = mkdtempSync(join(tmpdir(), "helm-repository-test-"));
  const repo = new HelmRepositoryServer({ tmpRoot: dir, log: () => {} });
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }), () => repo.stop());
  await repo.start();
  expect(repo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  await repo.publish([chart("0.1.0")]);
  const [second] = await repo.publish([chart("0.2.0")]);
  expect(repo.packaged.get("demo")).toEqual(second);

  const index = parse(await (await fetch(`${repo.url}index.yaml`)).text()) as { entries: Record<string, IndexEntry[]> };
  const entries = index.entries["demo"] ?? [];
  expect(entries.map((e) => e.version).sort()).toEqual(["0.1.0", "0.2.0"]);
  const newest = entries.find((e) => e.version === "0.2.0");
  expect(newest?.urls).toEqual([`${repo.url}demo-0.2.0.tgz`]);
  expect(`sha256:${newest?.digest}`).toBe(second?.digest);

  const bytes = Buffer.from(await (await fetch(`${repo.url}demo-0.2.0.tgz`)).arrayBuffer());
  expect(`sha256:${createHash("sha256").update(bytes).digest("hex")}`).toBe(second?.digest);
  expect(bytes.length).toBe(second?.size);
  expect((await fetch(`${repo.url}..%2Findex.yaml`)).status).toBe(404);
  expect((await fetch(`${repo.url}src/0/demo/Chart.yaml`)).status).toBe(404);
});
