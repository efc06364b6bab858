/**
 * A stage 3 run killed with SIGKILL (as an out-of-memory kill or a closed CI runner would)
 * after capmox made its first VM leaves its test tenant in the management cluster: namespace,
 * Cluster, Machine, a running VM. The real CLI (the compiled entry in build/) runs as a child
 * against the management environment's real controllers and lab:
 * - `vm-test --sweep --yes` refuses that VM, with or without the management cluster, naming the Cluster;
 * - `test:stage --sweep` names the tenant (a dry run), `--sweep --yes` removes it the Kubernetes
 *   way (Cluster deleted, capmox destroying the VM), leaving 0 VMs, 0 ISOs, no `cozy-stage*` namespace;
 * - or the next `test:stage 3` removes it first (`tenant.leftovers`) and passes, leaving the same nothing.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { waitForList, type KubeObject } from "../../../kube/index.js";
import { defaultScenario, timingPresets } from "../../../lab/index.js";
import type { MgmtEnv } from "../../../mgmt/index.js";
import { repoRoot } from "../../../paths.js";
import { describeMgmt, useMgmtEnv } from "../../support/mgmt-env.js";

const capi = "cluster.x-k8s.io/v1beta1";

const createdVms = (env: MgmtEnv): number[] => [...env.lab.state.vms.values()].filter((vm) => vm.config["template"] !== "1").map((vm) => vm.vmid);
const isos = (env: MgmtEnv): string[] => env.lab.state.volumes.filter((v) => /user-data-\d+\.iso$/.test(v.volname)).map((v) => `${v.storage}:${v.volname}`);
const stageNamespaces = async (env: MgmtEnv): Promise<string[]> =>
  (await env.kube.client.list("v1", "Namespace")).items.map((n) => n.metadata.name).filter((n) => n.startsWith("cozy-stage"));

/** What a person pastes from `mgmt:up`'s output, and nothing else of this process's environment. */
function cliEnv(env: MgmtEnv, kubeconfig: boolean): Record<string, string> {
  const lab = env.labCredentials;
  return {
    PATH: process.env["PATH"] ?? "",
    PROXMOX_URL: lab.url,
    PROXMOX_TOKEN: lab.tokenId,
    PROXMOX_SECRET: lab.secret,
    PROXMOX_FINGERPRINT: lab.fingerprint,
    ...(kubeconfig ? { KUBECONFIG: env.kube.kubeconfigPath ?? "" } : {}),
    CI: "1",
    NO_COLOR: "1",
  };
}

/** The compiled command as `npm run <script>` runs it: one node process, so SIGKILL reaches the program itself. */
function cli(env: MgmtEnv, script: "test-stage" | "vm-test", args: readonly string[], kubeconfig = true): ResultPromise<{ cwd: string; reject: false; extendEnv: false; env: Record<string, string>; timeout: number }> {
  return execa(process.execPath, ["--import", "./scripts/build.mjs", `build/scripts/${script}.js`, ...args], {
    cwd: repoRoot,
    reject: false,
    extendEnv: false,
    env: cliEnv(env, kubeconfig),
    timeout: 480_000,
  });
}

let child: ReturnType<typeof cli> | undefined;

/** Starts `test:stage 3`, SIGKILLs it once its first VM exists in the lab; returns the killed run's pid and namespace. */
async function killedStage3(env: MgmtEnv): Promise<{ pid: number; namespace: string; vms: number[] }> {
  child = cli(env, "test-stage", ["3"]);
  let exited = false;
  void child.then(() => (exited = true));
  const deadline = Date.now() + 300_000;
  while (createdVms(env).length === 0) {
    if (exited) throw new Error(`stage 3 ended before making a VM:\n${(await child).stderr}`);
    if (Date.now() > deadline) throw new Error("stage 3 made no VM within 5 minutes");
    await new Promise((r) => setTimeout(r, 20));
  }
  const pid = child.pid ?? 0;
  child.kill("SIGKILL");
  const result = await child;
  child = undefined;
  expect(result.signal).toBe("SIGKILL");
  const namespaces = await stageNamespaces(env);
  expect(namespaces).toHaveLength(1);
  return { pid, namespace: namespaces[0] as string, vms: createdVms(env) };
}

describeMgmt("a stage 3 run killed with SIGKILL after its first VM exists", () => {
  // Lab tasks end at once: no test here measures the lab's timing, and capmox, finding a task
  // still running, looks again only after its 10 s requeue (each clone, resize and start).
  const env = useMgmtEnv({ scenario: { ...defaultScenario(), timing: timingPresets["instant"]! } });
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stage3-killed-"));
  });
  afterEach(async () => {
    child?.kill("SIGKILL");
    await child;
    child = undefined;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("vm-test --sweep refuses its VM naming the Cluster; test:stage --sweep names the tenant, --sweep --yes removes it the Kubernetes way", async () => {
    const e = env();
    const killed = await killedStage3(e);
    const runId = killed.namespace.replace(/^cozy-stage3-/, "");
    const cluster = `${killed.namespace}/cozy-vmtest-${runId}`;
    // The killed run's Machine gets its providerID all the same: the controllers go on without it.
    const [machine] = await waitForList(e.kube.client, capi, "Machine", { namespace: killed.namespace }, (items) => items.some((m) => Boolean((m["spec"] as { providerID?: string }).providerID)), {
      timeoutMs: 180_000,
      describe: (items) => items.map((m) => `${m.metadata.name} ${(m["status"] as { phase?: string } | undefined)?.phase ?? "?"}`).join(", ") || "no Machines",
    });
    const providerId = ((machine as KubeObject)["spec"] as { providerID: string }).providerID;

    const withCluster = await cli(e, "vm-test", ["--sweep", "--yes"]);
    expect(withCluster.exitCode, withCluster.stderr).toBe(1);
    expect(withCluster.stderr).toMatch(new RegExp(`refused: VM \\d+ cozy-vmtest-${runId}-s3-\\S+ on pve\\d belongs to Cluster ${cluster}: Machine ${killed.namespace}/\\S+ has providerID ${providerId}; \`npm run test:stage -- --sweep --yes\``));
    const without = await cli(e, "vm-test", ["--sweep", "--yes"], false);
    expect(without.exitCode, without.stderr).toBe(1);
    expect(without.stderr).toMatch(new RegExp(`refused: VM \\d+ \\S+ on pve\\d belongs to Cluster ${cluster}: it carries capmox's tags \\(capi-cozy-vmtest-${runId}-s3, ip_net0_10\\.0\\.0\\.\\d+\\)`));
    expect(createdVms(e).length).toBeGreaterThan(0);
    expect((await e.kube.client.list(capi, "Machine", { namespace: killed.namespace })).items.map((m) => (m["spec"] as { providerID?: string }).providerID)).toContain(providerId);

    const dry = await cli(e, "test-stage", ["--sweep"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stderr).toContain(`would remove namespace ${killed.namespace} (stage 3, run ${runId}: its process ${killed.pid} on this host (${hostname()}) is gone): Cluster cozy-vmtest-${runId}: Machine `);
    expect(dry.stderr).toContain("dry run: 1 test tenant(s) would be removed");
    expect(await stageNamespaces(e)).toEqual([killed.namespace]);

    const started = performance.now();
    const swept = await cli(e, "test-stage", ["--sweep", "--yes"]);
    expect(swept.exitCode, swept.stderr).toBe(0);
    expect(swept.stderr).toMatch(/removed 1 of 1 test tenant\(s\): Clusters deleted, their VMs destroyed by capmox \(\d+ VM\(s\)\), namespaces gone/);
    console.log(`[stage3-killed] test:stage --sweep --yes took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(createdVms(e)).toEqual([]);
    expect(isos(e)).toEqual([]);
    expect(await stageNamespaces(e)).toEqual([]);
    expect((await e.kube.client.list(capi, "Cluster")).items).toEqual([]);
  }, 600_000);

  test("the next stage 3 run removes the killed run's tenant before it starts, and passes", async () => {
    const e = env();
    const killed = await killedStage3(e);
    const started = performance.now();
    const next = await cli(e, "test-stage", ["3", "--output", "json", "--report-dir", dir]);
    console.log(`[stage3-killed] the next stage 3 run took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(next.exitCode, `${next.stdout}\n${next.stderr}`).toBe(0);
    const report = JSON.parse(await readFile(join(dir, "stages.json"), "utf8")) as { stages: Array<{ checks: Array<{ id: string; verdict: string; detail?: string }> }> };
    const leftovers = report.stages[0]?.checks.find((c) => c.id === "tenant.leftovers");
    expect(leftovers?.verdict).toBe("passed");
    expect(leftovers?.detail).toContain(
      `removed 1 test tenant(s) of earlier runs (Cluster deleted, VMs destroyed by capmox, namespace gone): namespace ${killed.namespace} (stage 3, run ${killed.namespace.replace(/^cozy-stage3-/, "")}: its process ${killed.pid} on this host (${hostname()}) is gone), which held Cluster cozy-vmtest-`,
    );
    expect(report.stages[0]?.checks.every((c) => c.verdict === "passed")).toBe(true);
    expect(createdVms(e)).toEqual([]);
    expect(isos(e)).toEqual([]);
    expect(await stageNamespaces(e)).toEqual([]);
  }, 600_000);
});
