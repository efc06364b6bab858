/**
 * The VM-creation test against the lab: it passes on every allowed node, and whatever goes
 * wrong (failing tasks, 5xx bursts, dropped connections, latency, an abort mid-run, a VMID
 * race) it leaves no VM and no disk behind and never touches a VM it did not create.
 */
import { afterEach, describe, expect, it } from "vitest";
import { defaultScenario, startLab, type FaultRule, type LabHandle } from "../../../lab/index.js";
import type { HttpProxmoxApi, ProxmoxApi } from "../../../proxmox/index.js";
import { type StageResult, renderJunit } from "../../../stages/index.js";
import { OWNER_TAG, newRunId, runVmTest, type VmTestInput } from "../../../vmtest/index.js";
import { parseJunit } from "../../support/junit.js";
import { CAPMOX_TOKEN, createdVms, createdVolumes, labClient, labConfig, leastPrivilegeScenario, testTimeouts } from "./lab-setup.js";

let lab: LabHandle | undefined;
let api: HttpProxmoxApi | undefined;

afterEach(async () => {
  api?.close();
  api = undefined;
  await lab?.stop();
  lab = undefined;
});

async function start(options: { faults?: FaultRule[]; taskDurationMs?: number; seed?: number } = {}): Promise<LabHandle> {
  lab = await startLab({
    scenario: { ...defaultScenario(), faults: options.faults ?? [], seed: options.seed ?? 7 },
    taskDurationMs: options.taskDurationMs ?? 20,
  });
  api = labClient(lab);
  return lab;
}

function input(over: Partial<VmTestInput> = {}): VmTestInput {
  return {
    api: api!,
    config: labConfig(lab!),
    nodes: ["pve1", "pve2", "pve3"],
    agent: true,
    runId: newRunId(),
    timeouts: testTimeouts({ "vm.cleanup": 20_000 }),
    secrets: [lab!.tokens.admin.secret],
    ...over,
  };
}

const failed = (r: StageResult): string[] => r.checks.filter((c) => c.verdict === "failed").map((c) => c.id);

/** Records every VMID the run creates (the lab tells), to prove a fault test did create VMs before cleaning up. */
function watchCreated(): { stop(): Set<number> } {
  const seen = new Set<number>();
  const unsubscribe = lab!.state.onVmEvent((e) => void (e.type === "created" && seen.add(e.vm.vmid)));
  return {
    stop: () => {
      unsubscribe();
      return seen;
    },
  };
}

/** Settles once the run has created `count` VMs, as the lab tells. */
function created(count: number): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribe = lab!.state.onVmEvent(() => {
      if (createdVms(lab!).length < count) return;
      unsubscribe();
      resolve();
    });
  });
}

function expectNothingLeft(): void {
  expect(createdVms(lab!)).toEqual([]);
  expect(createdVolumes(lab!)).toEqual([]);
  expect(lab!.state.vms.get(9000)?.config.template).toBe("1");
}

describe("vm-test against the lab", () => {
  it("creates, checks and destroys a VM on every allowed node, timing each phase", async () => {
    await start();
    const watch = watchCreated();
    const result = await runVmTest(input());
    const seen = watch.stop();
    expect(result.checks.filter((c) => c.verdict !== "passed")).toEqual([]);
    const perNode = ["clone", "configure", "resize", "start", "agent", "verify", "stop", "destroy", "cleanup", "creation-time"];
    expect(result.checks.map((c) => c.id)).toEqual(["vm.template", ...["pve1", "pve2", "pve3"].flatMap((n) => perNode.map((p) => `vm.${n}.${p}`))]);
    for (const node of ["pve1", "pve2", "pve3"]) {
      // Clone to agent, phase by phase; how fast it is belongs to `npm run bench` (src/tests/bench/stages.bench.ts).
      const phases = ["clone", "configure", "resize", "start", "agent"].map((p) => Number(result.figures[`${node}.${p}Ms`]));
      expect(Number(result.figures[`${node}.creationMs`])).toBe(phases.reduce((a, b) => a + b, 0));
      expect(Number(result.figures[`${node}.cloneMs`])).toBeGreaterThan(0);
    }
    const vmids = result.checks.filter((c) => c.id.endsWith(".clone")).map((c) => c.figures.vmid);
    expect(new Set(vmids).size).toBe(3);
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expectNothingLeft();
    const report = parseJunit(renderJunit({ stages: [result], ok: true, startedAt: result.startedAt!, durationMs: result.durationMs }));
    expect(report.suites[0]?.name).toBe("vm-test: VM creation test");
    expect(report.suites[0]?.cases).toHaveLength(31);
    expect(report.suites[0]?.properties["criterionMs"]).toBe("300000");
  });

  it("works with the least-privilege capmox token and the capi pool", async () => {
    lab = await startLab({ scenario: leastPrivilegeScenario(), taskDurationMs: 20 });
    api = labClient(lab, CAPMOX_TOKEN);
    const result = await runVmTest(input({ config: labConfig(lab, { tokenId: CAPMOX_TOKEN.id, pool: "capi" }), nodes: ["pve2"] }));
    expect(result.checks.filter((c) => c.verdict !== "passed")).toEqual([]);
    expectNothingLeft();
  });

  it("retries the clone with a new id when the offered VMID is taken (nextid race), never touching the other VM", async () => {
    await start();
    let calls = 0;
    // The first nextid answer is already taken by the template, as if another client had just used it.
    const racing = new Proxy(api!, {
      get(target, key) {
        if (key === "nextId") return async () => (calls++ === 0 ? 9000 : target.nextId());
        const value = Reflect.get(target, key) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as ProxmoxApi;
    const templateBefore = JSON.stringify(lab!.state.vms.get(9000)!.config);
    const result = await runVmTest(input({ api: racing, nodes: ["pve1"] }));
    expect(failed(result)).toEqual([]);
    expect(result.checks.find((c) => c.id === "vm.pve1.clone")?.detail).toContain("after 1 VMID race(s)");
    expect(JSON.stringify(lab!.state.vms.get(9000)!.config)).toBe(templateBefore);
    expectNothingLeft();
  });

  it("with failing clone tasks: reports the failure, leaves nothing", async () => {
    await start({ faults: [{ match: "POST /nodes/*/qemu/*/clone", failTask: "clone failed: injected storage error" }] });
    const result = await runVmTest(input());
    expect(failed(result)).toEqual(["vm.pve1.clone", "vm.pve2.clone", "vm.pve3.clone"]);
    expect(result.checks.find((c) => c.id === "vm.pve1.clone")?.reason).toContain("injected storage error");
    expect(result.checks.filter((c) => c.id.endsWith(".cleanup")).map((c) => c.verdict)).toEqual(["passed", "passed", "passed"]);
    expectNothingLeft();
  });

  it("with failing start tasks: the created VMs are destroyed by cleanup", async () => {
    await start({ faults: [{ match: "POST /nodes/*/qemu/*/status/start", failTask: "start failed: injected" }] });
    const result = await runVmTest(input());
    expect(failed(result)).toEqual(["vm.pve1.start", "vm.pve2.start", "vm.pve3.start"]);
    const cleanups = result.checks.filter((c) => c.id.endsWith(".cleanup"));
    expect(cleanups.map((c) => [c.verdict, c.detail])).toEqual(
      ["pve1", "pve2", "pve3"].map(() => ["passed", expect.stringMatching(/^VM \d+ destroyed$/)]),
    );
    expectNothingLeft();
  });

  it("with 5xx bursts on reads, config, power and destroy calls: whatever the outcome, nothing is left", async () => {
    await start({
      faults: [
        { match: "GET /**", errorRate: 0.3, status: 503, message: "injected burst" },
        { match: "POST /nodes/*/qemu/*/config", errorRate: 0.3, status: 502, message: "injected burst" },
        { match: "POST /nodes/*/qemu/*/status/*", errorRate: 0.3, status: 503, message: "injected burst" },
        // The first three destroys always fail: the destroy phase or the cleanup must retry.
        { match: "DELETE /nodes/*/qemu/*", status: 503, message: "injected burst", count: 3 },
      ],
      seed: 11,
    });
    const watch = watchCreated();
    const result = await runVmTest(input());
    expect(watch.stop().size).toBeGreaterThan(0);
    expect(result.checks.some((c) => c.verdict === "failed")).toBe(true);
    expect(result.checks.filter((c) => c.id.endsWith(".cleanup")).every((c) => c.verdict === "passed")).toBe(true);
    expectNothingLeft();
  });

  it("with dropped connections on clone and destroy: nothing is left", async () => {
    await start({
      faults: [
        { match: "POST /nodes/*/qemu/*/clone", drop: true, count: 1 },
        { match: "DELETE /nodes/*/qemu/*", drop: true, count: 2 },
      ],
    });
    const watch = watchCreated();
    const result = await runVmTest(input());
    expect(watch.stop().size).toBeGreaterThan(0);
    expect(result.checks.some((c) => c.verdict === "failed")).toBe(true);
    expectNothingLeft();
  });

  it("with added latency: still passes, slower", async () => {
    await start({ faults: [{ match: "*", latencyMs: 40 }] });
    const result = await runVmTest(input({ nodes: ["pve1", "pve3"] }));
    expect(failed(result)).toEqual([]);
    expect(Number(result.figures["pve1.creationMs"])).toBeGreaterThan(40 * 6);
    expectNothingLeft();
  });

  it("aborted mid-run (Ctrl-C): stops, cleans up, reports the interruption", async () => {
    await start({ taskDurationMs: 400 });
    const controller = new AbortController();
    const three = created(3);
    const running = runVmTest(input({ signal: controller.signal }));
    await three;
    controller.abort(new Error("SIGINT received"));
    const result = await running;
    const reasons = result.checks.filter((c) => c.verdict === "failed").map((c) => c.reason ?? "");
    expect(reasons.length).toBeGreaterThanOrEqual(3);
    expect(reasons.every((r) => r.startsWith("interrupted during"))).toBe(true);
    expect(result.checks.filter((c) => c.id.endsWith(".cleanup")).every((c) => c.verdict === "passed")).toBe(true);
    expectNothingLeft();
  });

  it("marks every VM it creates: run name and description from the clone on, then the ownership and run tags", async () => {
    await start({ taskDurationMs: 200 });
    const runId = newRunId();
    // The VM's marks at each of its events: created (the clone), started, stopped, destroyed.
    const seen: { name?: string; description?: string; tags?: string }[] = [];
    const unsubscribe = lab!.state.onVmEvent(({ vm }) => {
      if (vm.config.template !== "1") seen.push({ name: vm.config.name, description: vm.config.description, tags: vm.config.tags });
    });
    await runVmTest(input({ runId, nodes: ["pve1"], agent: false })).finally(unsubscribe);
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) {
      expect(s.name).toBe(`cozy-vmtest-${runId}-pve1`);
      expect(s.description).toContain(`created by cozy-proxmox vm-test run ${runId}`);
    }
    // Until the first config update the clone carries the template's tags; from then on ours
    // (sorted, as PVE stores tags).
    expect(seen.at(-1)?.tags).toBe(`cozy-run-${runId};${OWNER_TAG}`);
    expectNothingLeft();
  });
});
