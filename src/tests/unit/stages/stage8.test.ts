/**
 * Stage 8's judgements on constructed objects: the served kinds, the HelmRelease cozystack-api
 * made, Machines and Nodes, whether the PVC workload can run, what is left after the delete;
 * the Kubernetes object of the test tenant; and stage 8 without a management cluster.
 */
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../../config/index.js";
import type { KubeClient, KubeObject } from "../../../kube/index.js";
import { resolveTimeouts, runStages, type StageInput } from "../../../stages/index.js";
import { judgeApi, judgeGone, judgeNodes, judgeRelease, releaseDeployed, workloadNotRunnable } from "../../../stages/stage8/judge.js";
import { Stage8Run, stage8Workers } from "../../../stages/stage8/run.js";

const version = "v1.32.6";
const uuid = "0b5a1c2e-1111-4222-8333-444455556666";
const served = (plural: string, apiVersion: string, kind: string) => ({ apiVersion, kind, plural, namespaced: true });
const app = served("kuberneteses", "apps.cozystack.io/v1alpha1", "Kubernetes");
const hr = served("helmreleases", "helm.toolkit.fluxcd.io/v2", "HelmRelease");

function release(ready: "True" | "False", history: string | undefined, message = ""): KubeObject {
  return {
    apiVersion: "helm.toolkit.fluxcd.io/v2",
    kind: "HelmRelease",
    metadata: { name: "kubernetes-t", namespace: "ns" },
    status: {
      conditions: [{ type: "Ready", status: ready, reason: ready === "True" ? "InstallSucceeded" : "InstallFailed", message }],
      ...(history ? { history: [{ status: history, chartName: "kubernetes-proxmox", chartVersion: "0.1.0" }] } : {}),
    },
  };
}

function machine(name: string, node: string): KubeObject {
  return { apiVersion: "cluster.x-k8s.io/v1beta1", kind: "Machine", metadata: { name }, status: { phase: "Running", nodeRef: { name: node } } };
}

function node(name: string, opts: { ready?: boolean; providerID?: string; osImage?: string } = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name },
    spec: { providerID: opts.providerID ?? `proxmox://${uuid}` },
    status: { conditions: [{ type: "Ready", status: opts.ready === false ? "False" : "True" }], nodeInfo: { kubeletVersion: version, osImage: opts.osImage ?? "Ubuntu 24.04.1 LTS" } },
  };
}

describe("lifecycle.api", () => {
  it("passes when the kind and HelmRelease are served and helm-controller runs", () => {
    const outcome = judgeApi(app, hr, { ok: true, where: "v1.4.0 (a local process, healthy)" });
    expect(outcome).toMatchObject({ verdict: "passed", detail: expect.stringContaining("kuberneteses.apps.cozystack.io/v1alpha1") });
  });

  it("fails naming each missing piece", () => {
    const outcome = judgeApi(undefined, undefined, { ok: false, problem: "no Deployment runs Flux's helm-controller" });
    expect(outcome.verdict).toBe("failed");
    const reason = outcome.verdict === "failed" ? outcome.reason : "";
    expect(reason).toContain("does not serve apps.cozystack.io/v1alpha1 Kubernetes");
    expect(reason).toContain("does not serve helm.toolkit.fluxcd.io/v2 HelmRelease");
    expect(reason).toContain("no Deployment runs Flux's helm-controller");
  });
});

describe("lifecycle.create", () => {
  const ref = { namespace: "ns", name: "kubernetes-t" };

  it("passes for a Ready release whose latest revision is deployed, with the chart and the time", () => {
    expect(releaseDeployed(release("True", "deployed"))).toBe(true);
    expect(judgeRelease(release("True", "deployed"), ref, 12_300)).toEqual({
      verdict: "passed",
      detail: "HelmRelease ns/kubernetes-t Ready after 12.3 s (chart kubernetes-proxmox 0.1.0 deployed)",
      figures: { helmReleaseMs: 12_300 },
    });
  });

  it("fails with helm-controller's words when the install failed, and when no HelmRelease was made", () => {
    expect(releaseDeployed(release("True", undefined))).toBe(false);
    const failed = judgeRelease(release("False", "failed", "values don't meet the specifications of the schema"), ref, 5_000);
    expect(failed).toMatchObject({ verdict: "failed", reason: expect.stringContaining("Ready=False (InstallFailed: values don't meet the specifications of the schema)") });
    expect(judgeRelease(undefined, ref, 5_000)).toMatchObject({ verdict: "failed", reason: "cozystack-api made no HelmRelease ns/kubernetes-t of the Kubernetes object" });
  });
});

describe("lifecycle.nodes", () => {
  const smbios1 = `uuid=${uuid}`;

  it("passes when every Machine's Node is Ready with its VM's providerID and the tenant's kubelet", () => {
    const outcome = judgeNodes([{ machine: machine("m1", "n1"), smbios1 }, { machine: machine("m2", "n2"), smbios1 }], [node("n1"), node("n2")], version, 2, 40_000);
    expect(outcome).toMatchObject({ verdict: "passed", detail: expect.stringContaining("Nodes n1, n2 Ready 40.0 s after apply"), figures: { joinedMs: 40_000 } });
  });

  it("says when the Nodes came from the environment's kubelet stand-in", () => {
    const outcome = judgeNodes([{ machine: machine("m1", "n1"), smbios1 }], [node("n1", { osImage: "kubelet stand-in (cozy-proxmox lab)" })], version, 1, 1);
    expect(outcome).toMatchObject({ verdict: "passed", detail: expect.stringContaining("(registered by the environment's kubelet stand-in)") });
  });

  it("fails for too few Machines, a NotReady Node, a missing Node, or a providerID that is not its VM's", () => {
    expect(judgeNodes([{ machine: machine("m1", "n1"), smbios1 }], [node("n1")], version, 2, 1)).toMatchObject({ verdict: "failed", reason: "1 Machines Running with a Node, the Kubernetes object asked for 2" });
    const bad = judgeNodes(
      [
        { machine: machine("m1", "n1"), smbios1 },
        { machine: machine("m2", "n2"), smbios1 },
        { machine: machine("m3", "n3"), smbios1 },
      ],
      [node("n1", { ready: false }), node("n2", { providerID: "proxmox://other" })],
      version,
      3,
      1,
    );
    expect(bad.verdict).toBe("failed");
    const reason = bad.verdict === "failed" ? bad.reason : "";
    expect(reason).toContain("Node n1 is not Ready");
    expect(reason).toContain(`Node n2 has providerID proxmox://other, its VM is proxmox://${uuid}`);
    expect(reason).toContain("Node n3 of Machine m3 is not in the tenant cluster");
  });
});

describe("lifecycle.workload", () => {
  const driver: KubeObject = { apiVersion: "storage.k8s.io/v1", kind: "CSIDriver", metadata: { name: "csi.proxmox.sinextra.dev" } };

  it("is not runnable on Nodes of the environment's kubelet stand-in, saying why", () => {
    const reason = workloadNotRunnable([node("n1", { osImage: "kubelet stand-in (cozy-proxmox lab)" }), node("n2")], undefined);
    expect(reason).toMatch(/^not runnable here: Node\(s\) n1 are registered by the environment's kubelet stand-in, which runs no pods, and the tenant cluster has no CSIDriver csi\.proxmox\.sinextra\.dev;/);
    expect(workloadNotRunnable([node("n1", { osImage: "kubelet stand-in (cozy-proxmox lab)" })], driver)).not.toContain("CSIDriver");
  });

  it("runs on real Nodes, with or without the CSI driver yet (the check waits for it)", () => {
    expect(workloadNotRunnable([node("n1"), node("n2")], driver)).toBeUndefined();
    expect(workloadNotRunnable([node("n1")], undefined)).toBeUndefined();
  });
});

describe("lifecycle.delete", () => {
  it("fails naming what is left in the management cluster and in Proxmox", () => {
    const outcome = judgeGone({ objects: ["Machine ns/m1", "Namespace ns"], vms: ["VM 100 cozy-vmtest-x on pve1"], isos: ["local:iso/user-data-100.iso on pve1"] }, 1, { deleteMs: 300_000 });
    expect(outcome).toMatchObject({
      verdict: "failed",
      reason: "after the Kubernetes object was deleted, these are still there: Machine ns/m1, Namespace ns, VM 100 cozy-vmtest-x on pve1, local:iso/user-data-100.iso on pve1",
      figures: { deleteMs: 300_000 },
    });
  });

  it("passes with the times when nothing is left", () => {
    const outcome = judgeGone({ objects: [], vms: [], isos: [] }, 2, { deleteMs: 21_000, releaseGoneMs: 1_500, capiGoneMs: 19_000 });
    expect(outcome).toMatchObject({ verdict: "passed", detail: expect.stringContaining("2 VM(s) and their cloud-init ISOs gone after 21.0 s"), figures: { deleteMs: 21_000, releaseGoneMs: 1_500, capiGoneMs: 19_000 } });
  });
});

describe("the test tenant's Kubernetes object", () => {
  const runId = "20261203t120000-ab12";
  const config = defaultConfig();
  const run = new Stage8Run({ client: {} as KubeClient, tokenSecret: "s3cr3t-token", runId }, config);

  it("is sized from the config's first node group, named and labelled with the run, in its own namespace", () => {
    expect(stage8Workers(config)).toBe(2);
    expect(stage8Workers({ ...config, tenants: [] })).toBe(2);
    const object = run.application();
    expect(object).toMatchObject({
      apiVersion: "apps.cozystack.io/v1alpha1",
      kind: "Kubernetes",
      metadata: { name: `cozy-vmtest-${runId}`, namespace: `cozy-stage8-${runId}`, labels: { "cozy-proxmox.io/stage-run": runId, "cozy-proxmox.io/stage": "8" } },
    });
    const spec = object["spec"] as { nodeGroups: Record<string, { replicas: number; tags: string[] }>; controlPlane: Record<string, unknown> };
    expect(Object.keys(spec.nodeGroups)).toEqual(["s8"]);
    expect(spec.nodeGroups["s8"]).toMatchObject({ replicas: 2, tags: expect.arrayContaining(["cozy-vmtest", `cozy-run-${runId}`]) });
    expect(spec.controlPlane).not.toHaveProperty("address");
    expect(run.releaseRef).toEqual({ apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", namespace: `cozy-stage8-${runId}`, name: `kubernetes-cozy-vmtest-${runId}` });
    expect(JSON.stringify(object)).not.toContain("s3cr3t-token");
  });

  it("leaves out a fixed control-plane address of the model tenant", () => {
    const model = config.tenants[0]!;
    const withAddress = { ...config, tenants: [{ ...model, controlPlane: { ...model.controlPlane, address: "10.0.0.50" } }] };
    const spec = new Stage8Run({ client: {} as KubeClient, tokenSecret: "x", runId }, withAddress).application()["spec"] as { controlPlane: Record<string, unknown> };
    expect(spec.controlPlane).not.toHaveProperty("address");
  });
});

describe("stage 8 without a management cluster", () => {
  it("is not run, saying it needs one", async () => {
    const input = { config: defaultConfig(), timeouts: resolveTimeouts() } as unknown as StageInput;
    const result = await runStages([8], input);
    expect(result.stages).toEqual([expect.objectContaining({ stage: 8, title: "Tenant lifecycle", verdict: "not-run", reason: expect.stringContaining("stage 8 needs the management cluster") })]);
    expect(result.ok).toBe(false);
  });
});
