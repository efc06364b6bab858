/**
 * The real commands, as a person runs them: `tsx scripts/test-stage.ts` and
 * `scripts/vm-test.ts` in child processes against a lab, configured through PROXMOX_*
 * variables; exit codes, report files, a SIGTERM mid-run, and the sweep of a killed run.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { vmTestMain } from "../../../cli/vm-test.js";
import { printConfig } from "../../../config/index.js";
import { startLab, type LabHandle } from "../../../lab/index.js";
import { repoRoot } from "../../../paths.js";
import { parseJunit } from "../../support/junit.js";
import { createdVms, createdVolumes, labConfig } from "./lab-setup.js";

let lab: LabHandle | undefined;
let dir: string;
let child: ReturnType<typeof vmTestChild> | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "stage-cli-"));
});

afterEach(async () => {
  child?.kill("SIGKILL");
  await child?.catch(() => undefined);
  child = undefined;
  await lab?.stop();
  lab = undefined;
  await rm(dir, { recursive: true, force: true });
});

function labEnv(l: LabHandle): Record<string, string> {
  return {
    PROXMOX_URL: l.url,
    PROXMOX_TOKEN: l.tokens.admin.id,
    PROXMOX_SECRET: l.tokens.admin.secret,
    PROXMOX_FINGERPRINT: l.fingerprint!,
    CI: "true",
    NO_COLOR: "1",
  };
}

function testStage(args: string[], env: Record<string, string>) {
  return execa("tsx", ["scripts/test-stage.ts", ...args], { ...childOptions, preferLocal: true, env });
}

const childOptions = { cwd: repoRoot, reject: false, extendEnv: false, timeout: 90_000 } as const;

function vmTestChild(args: string[], env: Record<string, string>) {
  // node --import tsx: one process, so the signal reaches the program itself.
  return execa(process.execPath, ["--import", "tsx", "scripts/vm-test.ts", ...args], { ...childOptions, env });
}

async function until(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function capture(): { stream: Writable & { isTTY?: boolean }; text(): string } {
  let text = "";
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

describe("npm run test:stage", () => {
  it("stage 1 against the default lab with env vars: exit 0 and a JUnit file CI can ingest", async () => {
    lab = await startLab();
    const env = { ...labEnv(lab), PATH: process.env.PATH ?? "" };
    const result = await testStage(["1", "--output", "junit", "--report-dir", dir], env);
    expect(result.exitCode, result.stderr).toBe(0);
    // The default config's tenant shares the platform's token: a warning, never a plain pass.
    expect(result.stdout).toContain("WARN  api.tenants");
    expect(result.stdout).toContain("Result: all checks passed (1 warning: a reduced guarantee, see WARN above)");
    expect(result.stderr).toContain(`Proxmox ${lab.url} as root@pam!cozy, TLS pinned; config: built-in default; from the environment: PROXMOX_URL, PROXMOX_TOKEN, PROXMOX_SECRET, PROXMOX_FINGERPRINT`);
    expect(result.stderr).not.toMatch(/\r|\u001b\[/);
    expect(`${result.stdout}${result.stderr}`).not.toContain(lab.tokens.admin.secret);
    const xml = await readFile(join(dir, "stages.junit.xml"), "utf8");
    expect(xml).not.toContain(lab.tokens.admin.secret);
    const report = parseJunit(xml);
    expect(report.attributes).toMatchObject({ tests: "10", failures: "0", errors: "0", skipped: "0" });
    expect(report.suites[0]?.cases.map((c) => c.name.split(":")[0])).toContain("api.privileges.capmox");
  });

  it("PROXMOX_INSECURE=true: stage 1 passes with a warning, never a plain PASS, in the terminal, JSON and JUnit", async () => {
    lab = await startLab();
    const { PROXMOX_FINGERPRINT: _pinned, ...unpinned } = labEnv(lab);
    const env = { ...unpinned, PROXMOX_INSECURE: "true", PATH: process.env.PATH ?? "" };
    const result = await testStage(["1", "--output", "json,junit", "--report-dir", dir], env);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("WARN  api.tls");
    expect(result.stdout).not.toContain("PASS  api.tls");
    // Two warnings: the TLS check's, and the default tenant sharing the platform's token.
    expect(result.stdout).toContain("Result: all checks passed (2 warnings: a reduced guarantee, see WARN above)");
    const json = JSON.parse(await readFile(join(dir, "stages.json"), "utf8")) as {
      summary: { warning: number };
      stages: { checks: { id: string; verdict: string }[] }[];
    };
    expect(json.summary.warning).toBe(2);
    expect(json.stages[0]?.checks.find((c) => c.id === "api.tls")?.verdict).toBe("warning");
    const junit = parseJunit(await readFile(join(dir, "stages.junit.xml"), "utf8"));
    expect(junit.suites[0]?.properties["stage.warnings"]).toBe("2");
    expect(junit.suites[0]?.cases.find((c) => c.name.startsWith("api.tls"))?.properties).toEqual({ verdict: "warning" });
  });

  it("all: stages 1 and 2 pass, 3, 4 and 8 are not run without a management cluster, 5 to 7 not without a tenant cluster (JSON and JUnit)", async () => {
    lab = await startLab();
    const config = join(dir, "platform.yaml");
    await writeFile(config, printConfig(labConfig(lab)));
    const env = { PROXMOX_SECRET: lab.tokens.admin.secret, CI: "1", PATH: process.env.PATH ?? "" };
    const result = await testStage(["all", "--config", config, "--output", "json,junit", "--report-dir", dir], env);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).not.toContain("Not implemented yet");
    expect(result.stderr).toContain("no management cluster (--kubeconfig or KUBECONFIG): stages 3, 4, 7 and 8 are not run");
    expect(result.stderr).toContain("no tenant cluster (--tenant-kubeconfig or TENANT_KUBECONFIG): stages 5, 6 and 7 are not run");
    const json = JSON.parse(await readFile(join(dir, "stages.json"), "utf8")) as { ok: boolean; stages: { stage: number; verdict: string }[] };
    expect(json.stages.map((s) => [s.stage, s.verdict])).toEqual([
      [1, "passed"],
      [2, "passed"],
      [3, "not-run"],
      [4, "not-run"],
      ...[5, 6, 7].map((n) => [n, "not-run"]),
      [8, "not-run"],
    ]);
    const report = parseJunit(await readFile(join(dir, "stages.junit.xml"), "utf8"));
    expect(report.suites).toHaveLength(8);
    expect(report.attributes.failures).toBe("0");
    expect(report.suites[2]?.cases.map((c) => c.skipped)).toEqual([expect.stringContaining("needs the management cluster")]);
    expect(report.suites[3]?.cases.map((c) => c.skipped)).toEqual([expect.stringContaining("needs the management cluster")]);
    expect(report.suites.slice(4, 7).every((s) => s.cases.length === 1 && s.cases[0]?.skipped?.includes("not runnable here: stage"))).toBe(true);
    expect(report.suites[7]?.cases.map((c) => c.skipped)).toEqual([expect.stringContaining("stage 8 needs the management cluster")]);
  });

  it("exit 1 when a check fails, 2 for usage and config errors", async () => {
    lab = await startLab();
    const env = { ...labEnv(lab), PATH: process.env.PATH ?? "" };
    const wrongSecret = await testStage(["1"], { ...env, PROXMOX_SECRET: "00000000-0000-0000-0000-000000000000" });
    expect(wrongSecret.exitCode).toBe(1);
    expect(wrongSecret.stdout).toContain("FAIL  api.auth");
    const usage = await Promise.all([
      testStage(["8"], { ...env, KUBECONFIG: "" }),
      testStage(["9"], env),
      testStage([], env),
      testStage(["1", "--output", "xml"], env),
      testStage(["1", "--config", join(dir, "missing.yaml")], env),
      testStage(["1"], { ...env, PROXMOX_INSECURE: "perhaps" }),
    ]);
    expect(usage.map((r) => r.exitCode)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(usage[0]?.stderr).toContain("stage 8 needs the management cluster: give --kubeconfig <file> or set KUBECONFIG");
    const noTenant = await testStage(["5"], { ...env, TENANT_KUBECONFIG: "" });
    expect(noTenant.exitCode).toBe(2);
    expect(noTenant.stderr).toContain("stage 5 needs a tenant cluster whose workers are Proxmox VMs: give --tenant-kubeconfig <file> or set TENANT_KUBECONFIG");
    const noCluster = await testStage(["3"], { ...env, KUBECONFIG: "" });
    expect(noCluster.exitCode).toBe(2);
    expect(noCluster.stderr).toContain("stage 3 needs the management cluster: give --kubeconfig <file> or set KUBECONFIG");
    expect(usage[1]?.stderr).toContain("stage '9' does not exist");
    expect(usage[3]?.stderr).toContain("--output: 'xml' is not a report format");
    expect(usage[4]?.stderr).toContain("cannot read the config file");
    expect(usage[5]?.stderr).toContain("PROXMOX_INSECURE: 'perhaps' is not a boolean");
  });
});

describe("npm run vm-test", () => {
  it("SIGTERM mid-run: the child removes its VMs, exits 1, and nothing is left", async () => {
    lab = await startLab({ taskDurationMs: 400 });
    child = vmTestChild(["--node", "pve1", "--no-agent"], { ...labEnv(lab), PATH: process.env.PATH ?? "" });
    await until(() => createdVms(lab!).length > 0, "the child's clone");
    child.kill("SIGTERM");
    const result = await child;
    child = undefined;
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain("SIGTERM: stopping; removing this run's VMs first");
    expect(result.stdout).toContain("interrupted during");
    expect(createdVms(lab)).toEqual([]);
    expect(createdVolumes(lab)).toEqual([]);
  });

  it("--sweep lists what a killed run left (dry run), --sweep --yes removes it, and nothing else", async () => {
    lab = await startLab({ taskDurationMs: 300 });
    const env = { ...labEnv(lab), PATH: process.env.PATH ?? "" };
    child = vmTestChild(["--node", "pve1", "--no-agent"], env);
    await until(() => createdVms(lab!).some((id) => lab!.state.vms.get(id)?.config.tags?.includes("cozy-vmtest")), "a tagged VM");
    child.kill("SIGKILL");
    await child;
    child = undefined;
    const leftovers = createdVms(lab);
    expect(leftovers.length).toBe(1);
    // A VM someone else named alike, without the run's tags or description: must survive.
    lab.state.vms.set(777, {
      vmid: 777,
      node: "pve2",
      config: { name: "cozy-vmtest-20260101t000000-abcd-pve2", tags: "cozy-vmtest", memory: "1024" },
      status: "running",
      qmpstatus: "running",
      execs: new Map(),
    });

    const dry = capture();
    const err = capture();
    expect(await vmTestMain(["--sweep"], { env, stdout: dry.stream, stderr: err.stream })).toBe(0);
    expect(err.text()).toContain(`would remove VM ${leftovers[0]}`);
    expect(err.text()).toContain("dry run: 1 VM(s) would be removed; add --yes to remove them");
    expect(createdVms(lab).sort()).toEqual([...leftovers, 777].sort());

    const real = capture();
    expect(await vmTestMain(["--sweep", "--yes"], { env, stdout: real.stream, stderr: real.stream })).toBe(0);
    expect(real.text()).toContain("removed 1 of 1 VM(s)");
    expect(createdVms(lab)).toEqual([777]);
    expect(createdVolumes(lab)).toEqual([]);
  });

  it("--sweep without a management cluster leaves a VM with capmox's tags alone and names its Cluster", async () => {
    lab = await startLab();
    const env = { ...labEnv(lab), PATH: process.env.PATH ?? "" };
    const run = "20260101t000000-abcd";
    // A stage 3 VM as capmox makes it: the VM test's marks plus the node group tag and its address tag.
    lab.state.vms.set(778, {
      vmid: 778,
      node: "pve2",
      config: { name: `cozy-vmtest-${run}-s3-abcde-fghij`, tags: `capi-cozy-vmtest-${run}-s3;cozy-run-${run};cozy-vmtest;ip_net0_10.0.0.250`, memory: "4096" },
      status: "running",
      qmpstatus: "running",
      execs: new Map(),
    });
    const out = capture();
    expect(await vmTestMain(["--sweep", "--yes"], { env, stdout: out.stream, stderr: out.stream })).toBe(1);
    expect(out.text()).toContain("no management cluster (--kubeconfig or KUBECONFIG): VMs carrying capmox's tags are left alone, as a Cluster API Machine may own them");
    expect(out.text()).toContain(
      `refused: VM 778 cozy-vmtest-${run}-s3-abcde-fghij on pve2 belongs to Cluster cozy-stage3-${run}/cozy-vmtest-${run}: it carries capmox's tags (capi-cozy-vmtest-${run}-s3, ip_net0_10.0.0.250)`,
    );
    expect(out.text()).toContain("`npm run test:stage -- --sweep --yes` deletes that test tenant's Cluster");
    expect(out.text()).toContain("nothing removed: 1 VM(s) belong to a Cluster");
    expect(createdVms(lab)).toEqual([778]);

    // test:stage --sweep needs the management cluster.
    const sweep = await testStage(["--sweep"], env);
    expect(sweep.exitCode).toBe(2);
    expect(sweep.stderr).toContain("--sweep needs the management cluster: give --kubeconfig <file> or set KUBECONFIG");
    expect((await testStage(["3", "--yes"], env)).stderr).toContain("--yes and --min-age go with --sweep");
  });

  it("refuses a node outside allowedNodes with exit 2", async () => {
    lab = await startLab();
    const err = capture();
    const code = await vmTestMain(["--node", "pve9"], { env: labEnv(lab), stdout: err.stream, stderr: err.stream });
    expect(code).toBe(2);
    expect(err.text()).toContain("--node pve9: not in proxmox.allowedNodes (pve1, pve2, pve3)");
  });
});
