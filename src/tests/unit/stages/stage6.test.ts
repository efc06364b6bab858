/**
 * Stage 6's judgements on constructed states: Cilium/Kube-OVN workloads as apps/v1 returns
 * them, probe pods' statuses (exit code, termination message), Services with
 * status.loadBalancer and MetalLB IPAddressPools; and the LoadBalancer answer from this host
 * against a real HTTP server on 127.0.0.1.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../../kube/index.js";
import { inPoolEntry, judgeCilium, judgeKubeOvn, judgeLbAddress, judgeLbAnswers, probeResult } from "../../../stages/stage6/checks.js";
import { httpFetch } from "../../../stages/stage6/index.js";

const obj = (apiVersion: string, kind: string, name: string, ns: string | undefined, rest: Record<string, unknown>): KubeObject => ({ apiVersion, kind, metadata: { name, ...(ns ? { namespace: ns } : {}) }, ...rest });
const ds = (name: string, desired: number, ready: number, ns = "cozy-cilium"): KubeObject => obj("apps/v1", "DaemonSet", name, ns, { status: { desiredNumberScheduled: desired, numberReady: ready, numberAvailable: ready } });
const dep = (name: string, replicas: number, available: number, ns = "cozy-cilium"): KubeObject => obj("apps/v1", "Deployment", name, ns, { spec: { replicas }, status: { replicas, availableReplicas: available } });
const node = (name: string, networkUnavailable: "True" | "False"): KubeObject =>
  obj("v1", "Node", name, undefined, { status: { conditions: [{ type: "NetworkUnavailable", status: networkUnavailable, reason: "CiliumIsUp" }, { type: "Ready", status: "True" }] } });

describe("stage 6: CNI health", () => {
  it("Cilium: agents ready everywhere, operator available, no Node without network", () => {
    expect(judgeCilium([ds("cilium", 3, 3)], [dep("cilium-operator", 2, 2)], [node("w1", "False")])).toMatchObject({ verdict: "passed", detail: "Cilium agent ready on 3 node(s), operator available" });
    const bad = judgeCilium([ds("cilium", 3, 2)], [dep("cilium-operator", 2, 1)], [node("w1", "True")]);
    expect(bad.verdict === "failed" && bad.reason).toBe(
      "DaemonSet cozy-cilium/cilium has 2 of 3 pods ready; Deployment cozy-cilium/cilium-operator has 1 of 2 replicas available; NetworkUnavailable on Node(s) w1",
    );
    expect(judgeCilium([], [], []).verdict).toBe("failed");
  });

  it("Kube-OVN: skipped with a reason where not used, judged where it is", () => {
    expect(judgeKubeOvn([ds("cilium", 3, 3)], [])).toEqual({ verdict: "skipped", reason: "Kube-OVN is not used in this cluster (no kube-ovn workloads)" });
    expect(judgeKubeOvn([ds("kube-ovn-cni", 3, 3, "cozy-kubeovn"), ds("ovs-ovn", 3, 3, "cozy-kubeovn")], [dep("kube-ovn-controller", 1, 1, "cozy-kubeovn")]).verdict).toBe("passed");
    expect(judgeKubeOvn([ds("kube-ovn-cni", 3, 1, "cozy-kubeovn")], []).verdict).toBe("failed");
  });
});

const probe = (phase: string, exitCode: number | undefined, message: string, waiting?: string): KubeObject =>
  obj("v1", "Pod", "probe-client-1", "ns", {
    status: {
      phase,
      containerStatuses: [{ name: "main", state: exitCode === undefined ? { waiting: { reason: waiting ?? "ContainerCreating" } } : { terminated: { exitCode, message, reason: exitCode ? "Error" : "Completed" } } }],
    },
  });

describe("stage 6: what a probe found", () => {
  const token = "a1b2c3d4e5f6a7b8c9d0e1f2";
  it("reached only with the server's token, blocked only on a timeout, anything else is an error", () => {
    expect(probeResult(probe("Succeeded", 0, `${token}\n`), token).kind).toBe("reached");
    expect(probeResult(probe("Succeeded", 0, "<html>other</html>"), token)).toMatchObject({ kind: "error", detail: expect.stringContaining("not the test server's token") });
    expect(probeResult(probe("Failed", 1, "wget: download timed out"), token).kind).toBe("blocked");
    expect(probeResult(probe("Failed", 1, "wget: can't connect to remote host (10.244.1.7): Connection refused"), token)).toMatchObject({ kind: "error", detail: expect.stringContaining("Connection refused") });
    expect(probeResult(probe("Pending", undefined, "", "ImagePullBackOff"), token)).toMatchObject({ kind: "error", detail: expect.stringContaining("ImagePullBackOff") });
    expect(probeResult(undefined, token).kind).toBe("error");
  });
});

describe("stage 6: LoadBalancer", () => {
  const service = (ip?: string): KubeObject =>
    obj("v1", "Service", "stage6-lb", "ns", { spec: { type: "LoadBalancer", ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }] }, status: { loadBalancer: ip ? { ingress: [{ ip, ipMode: "VIP" }] } : {} } });
  const pool = (name: string, addresses: string[]): KubeObject => obj("metallb.io/v1beta1", "IPAddressPool", name, "cozy-metallb", { spec: { addresses, autoAssign: true } });

  it("pool entries: ranges and CIDRs", () => {
    expect(inPoolEntry("192.168.100.210", "192.168.100.200-192.168.100.250")).toBe(true);
    expect(inPoolEntry("192.168.100.251", "192.168.100.200-192.168.100.250")).toBe(false);
    expect(inPoolEntry("10.10.0.255", "10.10.0.0/24")).toBe(true);
    expect(inPoolEntry("10.10.1.0", "10.10.0.0/24")).toBe(false);
    expect(inPoolEntry("fd00::1", "10.10.0.0/24")).toBe(false);
  });

  it("the address must come from a MetalLB pool; without MetalLB's API it is a warning, without an address a failure", () => {
    expect(judgeLbAddress(service("192.168.100.210"), [pool("tenant", ["192.168.100.200-192.168.100.250"])])).toMatchObject({ verdict: "passed", detail: "LoadBalancer address 192.168.100.210 from MetalLB pool cozy-metallb/tenant" });
    expect(judgeLbAddress(service("10.0.0.5"), [pool("tenant", ["192.168.100.200-192.168.100.250"])])).toMatchObject({ verdict: "failed", reason: expect.stringContaining("in no MetalLB IPAddressPool (tenant: 192.168.100.200-192.168.100.250)") });
    expect(judgeLbAddress(service("10.0.0.5"), undefined).verdict).toBe("warning");
    expect(judgeLbAddress(service(), [pool("tenant", ["192.168.100.200-192.168.100.250"])])).toMatchObject({ verdict: "failed", reason: "the LoadBalancer Service got no address" });
  });

  it("answers: from a pod and this host passes; only from a pod is a warning; not from a pod fails", () => {
    const reached = { kind: "reached", detail: "got the server's answer" } as const;
    const blocked = { kind: "blocked", detail: "timed out" } as const;
    expect(judgeLbAnswers("192.168.100.210", reached, { ok: true, detail: "" }).verdict).toBe("passed");
    expect(judgeLbAnswers("192.168.100.210", reached, { ok: false, detail: "connect EHOSTUNREACH" }).verdict).toBe("warning");
    expect(judgeLbAnswers("192.168.100.210", blocked, { ok: true, detail: "" }).verdict).toBe("failed");
    expect(judgeLbAnswers("192.168.100.210", blocked, { ok: false, detail: "timeout" })).toMatchObject({ verdict: "failed", reason: expect.stringContaining("does not answer") });
  });
});

describe("stage 6: the host-side probe", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it("gets the body from a server on 127.0.0.1, and an error (never a throw) when nothing listens", async () => {
    server = createServer((_req, res) => res.end("token-123\n"));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    expect(await httpFetch(`http://127.0.0.1:${port}/`, 2_000)).toEqual({ status: 200, body: "token-123\n" });
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const refused = await httpFetch(`http://127.0.0.1:${port}/`, 2_000);
    expect(refused).toMatchObject({ error: expect.stringContaining("ECONNREFUSED") });
  });
});
