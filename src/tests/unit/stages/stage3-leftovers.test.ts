/**
 * Leftover test tenants of killed stage 3, 4 and 8 runs: which namespaces count as one, when a
 * run cannot be under way any more (its process on this host gone, or older than its stage's
 * longest run), and that the longest run follows the stages' own check limits.
 */
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../../config/index.js";
import type { KubeClient, KubeObject } from "../../../kube/index.js";
import { formatDuration, resolveTimeouts } from "../../../stages/index.js";
import { judgeNamespace, maxRunMs, processAlive, Stage3Run, stage3Checks, stageCheckLimits, testTenantNamespace } from "../../../stages/stage3/index.js";
import { testTenant } from "../../../stages/stage3/tenant.js";
import { Stage4Run, stage4Checks } from "../../../stages/stage4/index.js";
import { Stage8Run, stage8Checks } from "../../../stages/stage8/index.js";

const timeouts = resolveTimeouts({});
const runId = "20261206t050000-ab12";
const started = Date.parse("2026-12-06T05:00:00Z");
const here = { host: "ci-runner-7", pid: 4000 };
const management = { client: {} as KubeClient, tokenSecret: "s", runId };

/** The namespace a run on `host`/`pid` makes, created `createdAfterMs` after its run id's time. */
function namespace(stage: number, runner = { host: here.host, pid: 4242 }, createdAfterMs = 2_000): KubeObject {
  const [ns] = testTenantNamespace(testTenant(defaultConfig(), runId, 1, stage), { tokenSecret: "s" }, runner);
  return { ...ns!, metadata: { ...ns!.metadata, creationTimestamp: new Date(started + createdAfterMs).toISOString() } } as KubeObject;
}

const at = (ms: number) => ({ now: new Date(started + ms), timeouts, here, alive: (pid: number) => pid === 5555 });

describe("leftover test tenants", () => {
  it("a run whose process on this host is gone is left behind at once", () => {
    const t = judgeNamespace(namespace(3), at(30_000));
    expect(t).toMatchObject({ namespace: `cozy-stage3-${runId}`, stage: 3, runId, state: "gone", runner: { host: "ci-runner-7", pid: 4242 } });
    expect(t?.why).toBe("its process 4242 on this host (ci-runner-7) is gone");
    expect(t?.ageMs).toBe(28_000);
  });

  it("a run whose process still runs here, or that ran elsewhere, is left alone until it is older than its stage's longest run", () => {
    const live = judgeNamespace(namespace(4, { host: here.host, pid: 5555 }), at(60_000));
    expect(live?.state).toBe("maybe-running");
    expect(live?.why).toMatch(/^started 58\.0 s ago by process 5555 on this host, which is still running; a stage 4 run can take \d+ min/);
    const elsewhere = judgeNamespace(namespace(8, { host: "laptop", pid: 4242 }), at(60_000));
    expect(elsewhere?.state).toBe("maybe-running");
    expect(elsewhere?.why).toContain("on host laptop (process 4242)");
    const limit = maxRunMs(8, timeouts);
    expect(judgeNamespace(namespace(8, { host: "laptop", pid: 4242 }), at(limit + 1_999))?.state).toBe("maybe-running");
    const old = judgeNamespace(namespace(8, { host: "laptop", pid: 4242 }), at(limit + 2_000));
    expect(old?.state).toBe("old");
    expect(old?.why).toBe(`started ${formatDuration(limit)} ago, longer than a stage 8 run can take (${formatDuration(limit)})`);
  });

  it("--min-age replaces the stage's longest run; our own process is never taken for a gone one", () => {
    expect(judgeNamespace(namespace(3, { host: "laptop", pid: 1 }), { ...at(10_000), minAgeMs: 0 })).toMatchObject({ state: "old", why: "started 8.0 s ago, older than --min-age 0 ms" });
    expect(judgeNamespace(namespace(3, here), at(10_000))?.state).toBe("maybe-running");
  });

  it("age is the younger of the run id's time and the namespace's creation", () => {
    expect(judgeNamespace(namespace(3, { host: "laptop", pid: 1 }, 120_000), at(130_000))?.ageMs).toBe(10_000);
  });

  it("takes only namespaces whose name and run label agree", () => {
    const ns = namespace(3);
    expect(judgeNamespace({ ...ns, metadata: { ...ns.metadata, labels: {} } }, at(1))).toBeUndefined();
    expect(judgeNamespace({ ...ns, metadata: { ...ns.metadata, labels: { "cozy-proxmox.io/stage3-run": "20261206t050000-ffff" } } }, at(1))).toBeUndefined();
    expect(judgeNamespace({ ...ns, metadata: { ...ns.metadata, name: "cozy-stage5-20261206t050000-ab12" } }, at(1))).toBeUndefined();
    expect(judgeNamespace({ ...ns, metadata: { ...ns.metadata, name: "tenant-demo" } }, at(1))).toBeUndefined();
  });

  it("without the process annotations only the age counts", () => {
    const ns = namespace(3);
    const bare = { ...ns, metadata: { ...ns.metadata, annotations: {} } };
    expect(judgeNamespace(bare, at(60_000))?.state).toBe("maybe-running");
    expect(judgeNamespace(bare, at(60_000))?.why).toContain("by an unknown process");
    expect(judgeNamespace(bare, at(maxRunMs(3, timeouts) + 2_000))?.state).toBe("old");
  });

  it("the longest run of each stage is the sum of its own checks' limits and its cleanup", () => {
    const config = defaultConfig();
    const run3 = new Stage3Run(management, config);
    const limits = (checks: ReadonlyArray<{ readonly timeout?: string }>) => checks.map((c) => c.timeout ?? "check.default");
    expect(limits(stage3Checks(run3))).toEqual(stageCheckLimits[3]);
    expect(limits(stage4Checks(new Stage4Run(new Stage3Run(management, config, 2, 4))))).toEqual(stageCheckLimits[4]);
    expect(limits(stage8Checks(new Stage8Run(management, config)))).toEqual(stageCheckLimits[8]);
    // With the default table: stage 3 about 27 minutes, stage 8 about 55.
    expect(maxRunMs(3, timeouts)).toBe((30 + 30 + 300 + 300 + 30 + 300 + 300 + 300 + 60) * 1000);
    expect(maxRunMs(8, resolveTimeouts({ "capi.delete": "1m" }))).toBeLessThan(maxRunMs(8, timeouts));
  });

  it("probes processes of this host", () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(2 ** 22 + 1)).toBe(false);
  });
});
