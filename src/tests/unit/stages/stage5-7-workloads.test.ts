/**
 * What stages 5 to 7 share: the cdk8s-plus test workloads carry the run id, cleanup removes
 * the run's namespaces whatever the checks did (failure, a throw, Ctrl-C) and reports what
 * is left, and without the clusters they need the stages say so instead of passing.
 */
import { describe, expect, it } from "vitest";
import type { KubeClient, KubeObject, ObjectRef } from "../../../kube/index.js";
import { defaultTimeouts, fail, pass, runChecks, runStages, type StageInput } from "../../../stages/index.js";
import { notRunnableReason, withCleanup } from "../../../stages/registry.js";
import { tenantKubeconfigPathOf } from "../../../stages/tenant/input.js";
import { TestObjects } from "../../../stages/tenant/objects.js";
import { allowIngress, csiReader, csiWorkload, denyAllIngress, idlePod, loadBalancer, probePod, runLabel, serverPod, stageLabel, testNamespace } from "../../../stages/workloads/index.js";

const runId = "20261203t120000-ab12";
const base = { namespace: `cozy-stage6-${runId}`, runId, stage: 6, image: "busybox:1.36" };

describe("test workloads (cdk8s-plus-28)", () => {
  const all: KubeObject[] = [
    ...testNamespace(base),
    ...csiWorkload({ ...base, stage: 5 }, "proxmox-csi", "tok").objects,
    ...csiReader({ ...base, stage: 5 }, "stage5-data", "tok"),
    ...serverPod(base, "server", "server", "tok"),
    ...probePod(base, "probe-client-1", "client", "http://10.244.1.7:8080/"),
    ...denyAllIngress(base),
    ...allowIngress(base, "client", "server"),
    ...loadBalancer(base, "stage6-lb", "lb"),
    ...idlePod({ ...base, stage: 7 }, "stage7-idle"),
  ];

  it("every object carries the run id and its stage; namespaced ones sit in the run's namespace", () => {
    expect(all.map((o) => o.kind)).toEqual(["Namespace", "PersistentVolumeClaim", "Pod", "Pod", "Pod", "Pod", "NetworkPolicy", "NetworkPolicy", "Service", "Pod"]);
    for (const o of all) {
      expect(o.metadata.labels?.[runLabel], `${o.kind} ${o.metadata.name}`).toBe(runId);
      expect(o.metadata.labels?.[stageLabel]).toMatch(/^[567]$/);
      if (o.kind !== "Namespace") expect(o.metadata.namespace).toBe(base.namespace);
    }
  });

  it("pods run once, as nobody, and report through their termination message", () => {
    const probe = all.find((o) => o.metadata.name === "probe-client-1") as KubeObject & { spec: { restartPolicy: string; securityContext: { runAsUser: number }; containers: Array<{ command: string[] }> } };
    expect(probe.spec.restartPolicy).toBe("Never");
    expect(probe.spec.securityContext.runAsUser).toBe(65534);
    expect(probe.spec.containers[0]?.command).toEqual(["sh", "-c", `out=$(wget -q -T 5 -O - 'http://10.244.1.7:8080/' 2>&1); rc=$?; echo "$out" > /dev/termination-log; exit $rc`]);
    expect(probe.metadata.labels?.["role"]).toBe("client");
  });

  it("default deny selects every pod with no ingress rule; allow admits role=client to role=server on 8080/TCP", () => {
    const [deny, allow] = all.filter((o) => o.kind === "NetworkPolicy") as Array<KubeObject & { spec: Record<string, unknown> }>;
    expect(deny?.spec).toMatchObject({ podSelector: {}, policyTypes: expect.arrayContaining(["Ingress"]) });
    expect(deny?.spec["ingress"]).toBeUndefined();
    expect(allow?.spec).toEqual({
      podSelector: { matchLabels: { role: "server" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ podSelector: { matchLabels: { role: "client" } } }], ports: [{ port: 8080, protocol: "TCP" }] }],
    });
  });
});

/** A tenant API with namespaces only: list by label, delete, and (for waits) a watch that idles until aborted. */
function fakeTenant(namespaces: Array<{ name: string; labels: Record<string, string>; stuck?: boolean }>): { client: KubeClient; deleted: string[] } {
  const deleted: string[] = [];
  const present = (): KubeObject[] =>
    namespaces.filter((n) => n.stuck || !deleted.includes(n.name)).map((n) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name: n.name, labels: n.labels, resourceVersion: "1" } }));
  const client = {
    list: async (_v: string, _k: string, options: { labelSelector?: string } = {}) => {
      const wanted = (options.labelSelector ?? "").split(",").filter(Boolean).map((p) => p.split("=") as [string, string]);
      return { items: present().filter((n) => wanted.every(([k, v]) => n.metadata.labels?.[k] === v)), resourceVersion: "1" };
    },
    delete: async (ref: ObjectRef) => (deleted.push(ref.name), true),
    watch: (_v: string, _k: string, options: { signal?: AbortSignal }) => new Promise<void>((resolve) => options.signal?.addEventListener("abort", () => resolve(), { once: true })),
  } as unknown as KubeClient;
  return { client, deleted };
}

const labels = (stage: number, id = runId): Record<string, string> => ({ [runLabel]: id, [stageLabel]: String(stage) });

describe("cleanup of the test workloads", () => {
  it("deletes exactly the run's namespaces of its stage, found by label", async () => {
    const { client, deleted } = fakeTenant([
      { name: `cozy-stage6-${runId}`, labels: labels(6) },
      { name: `cozy-stage6-lb-${runId}`, labels: labels(6) },
      { name: "cozy-stage6-20261201t000000-0000", labels: labels(6, "20261201t000000-0000") },
      { name: `cozy-stage5-${runId}`, labels: labels(5) },
      { name: "default", labels: {} },
    ]);
    const objects = new TestObjects(client, 6, "busybox:1.36", runId);
    expect(await objects.cleanup(2_000)).toEqual([]);
    expect(deleted.sort()).toEqual([`cozy-stage6-${runId}`, `cozy-stage6-lb-${runId}`]);
  });

  it("names a namespace that does not go away", async () => {
    const { client } = fakeTenant([{ name: `cozy-stage6-${runId}`, labels: labels(6), stuck: true }]);
    const problems = await new TestObjects(client, 6, "busybox:1.36", runId).cleanup(300);
    expect(problems).toEqual([expect.stringContaining(`namespaces still terminating after cleanup: Namespace cozy-stage6-${runId}`)]);
  });

  const timeouts = { ...defaultTimeouts, "check.default": 2_000 };
  const check = { id: "workload.cleanup", title: "nothing of the test workloads is left" };

  it("runs when a check fails, and a leftover is a failed workload.cleanup check", async () => {
    let cleaned = 0;
    const result = await withCleanup(
      async () => (cleaned++, ["Namespace cozy-stage5-x is still terminating"]),
      check,
      {},
      () => runChecks(5, "CSI storage", [{ id: "csi.bound", title: "binds", run: async () => fail("the test PVC is Pending", "look") }], null, { timeouts }),
    );
    expect(cleaned).toBe(1);
    expect(result.verdict).toBe("failed");
    expect(result.checks.map((c) => [c.id, c.verdict])).toEqual([
      ["csi.bound", "failed"],
      ["workload.cleanup", "failed"],
    ]);
    expect(result.checks[1]?.reason).toBe("Namespace cozy-stage5-x is still terminating");
  });

  it("runs when the checks throw, and on Ctrl-C (the rest skipped as interrupted)", async () => {
    let cleaned = 0;
    const cleanup = async (): Promise<string[]> => (cleaned++, []);
    await expect(withCleanup(cleanup, check, {}, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(cleaned).toBe(1);
    const controller = new AbortController();
    const result = await withCleanup(cleanup, check, {}, () =>
      runChecks(
        6,
        "Network policies",
        [
          { id: "netpol.baseline", title: "a", run: async () => (controller.abort(new Error("SIGINT received")), pass("ok")) },
          { id: "netpol.deny", title: "b", run: async () => pass("never") },
        ],
        null,
        { timeouts, signal: controller.signal },
      ),
    );
    expect(cleaned).toBe(2);
    expect(result.checks.find((c) => c.id === "netpol.deny")).toMatchObject({ verdict: "skipped", reason: "run interrupted before this check started" });
    expect(result.checks.some((c) => c.id === "workload.cleanup")).toBe(false);
  });
});

describe("stages 5 to 7 without the clusters they need", () => {
  it("are not runnable here, saying what they need, and never count as passed", async () => {
    const input = { config: {}, api: {}, configuredUrl: "", tls: {}, timeouts: defaultTimeouts } as unknown as StageInput;
    const run = await runStages([5, 6, 7], input);
    expect(run.stages.map((s) => [s.stage, s.verdict])).toEqual([
      [5, "not-run"],
      [6, "not-run"],
      [7, "not-run"],
    ]);
    expect(run.stages[0]?.reason).toMatch(/^not runnable here: stage 5 needs the tenant cluster whose workers are Proxmox VMs \(--tenant-kubeconfig <file> or TENANT_KUBECONFIG\)/);
    expect(run.stages[2]?.reason).toContain("and the management cluster running the metrics stack");
    expect(run.ok).toBe(false);
    const tenant = {} as NonNullable<StageInput["tenant"]>;
    expect(notRunnableReason(7, { tenant })).toContain("stage 7 needs the management cluster running the metrics stack");
    expect(notRunnableReason(6, { tenant })).toBeUndefined();
  });

  it("take the tenant kubeconfig from the flag, else TENANT_KUBECONFIG", () => {
    expect(tenantKubeconfigPathOf("/a", { TENANT_KUBECONFIG: "/b" })).toBe("/a");
    expect(tenantKubeconfigPathOf(undefined, { TENANT_KUBECONFIG: "/b" })).toBe("/b");
    expect(tenantKubeconfigPathOf(undefined, { TENANT_KUBECONFIG: " " })).toBeUndefined();
  });
});
