/**
 * Stage 7's judgements on constructed states: VictoriaMetrics operator objects with their
 * status, Prometheus-API instant query answers, and vmalert's /api/v1/rules answer.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../kube/index.js";
import { judgeNodeMetrics, judgeRules, judgeStack, judgeVmMetrics, proxyPath, queryEndpoint, rulesOf, vectorOf, type MetricsStack } from "../../../stages/stage7/checks.js";

const vm = (kind: string, name: string, updateStatus?: string, reason?: string): KubeObject => ({
  apiVersion: "operator.victoriametrics.com/v1beta1",
  kind,
  metadata: { name, namespace: "tenant-root" },
  spec: {},
  status: { ...(updateStatus ? { updateStatus } : {}), ...(reason ? { reason } : {}) },
});

const healthy: MetricsStack = {
  clusters: [vm("VMCluster", "shortterm", "operational"), vm("VMCluster", "longterm", "operational")],
  singles: [],
  alerts: [vm("VMAlert", "vmalert-shortterm", "operational")],
  alertmanagers: [vm("VMAlertmanager", "alertmanager", "operational")],
};

describe("stage 7: the metrics stack", () => {
  it("passes when storage, vmalert and alertmanager are operational, names what is not", () => {
    expect(judgeStack(healthy, "tenant-root").verdict).toBe("passed");
    const broken = judgeStack({ ...healthy, clusters: [vm("VMCluster", "shortterm", "expanding")], alertmanagers: [] }, "tenant-root");
    expect(broken.verdict === "failed" && broken.reason).toBe("no VMAlertmanager in tenant-root: alerts go nowhere; VMCluster shortterm is expanding");
    expect(judgeStack({ clusters: [], singles: [], alerts: [], alertmanagers: [] }, "tenant-root").verdict).toBe("failed");
    const failing = judgeStack({ ...healthy, alerts: [vm("VMAlert", "a", "failed", "cannot find datasource")] }, "tenant-root");
    expect(failing.verdict === "failed" && failing.reason).toContain("VMAlert a is failed (cannot find datasource)");
  });

  it("queries vmselect of shortterm through the service proxy, or a VMSingle", () => {
    const endpoint = queryEndpoint(healthy, "tenant-root")!;
    expect(proxyPath(endpoint, "/api/v1/query")).toBe("/api/v1/namespaces/tenant-root/services/vmselect-shortterm:http/proxy/select/0/prometheus/api/v1/query");
    const single = queryEndpoint({ clusters: [], singles: [vm("VMSingle", "main")], alerts: [], alertmanagers: [] }, "mon")!;
    expect(proxyPath(single, "/api/v1/query")).toBe("/api/v1/namespaces/mon/services/vmsingle-main:http/proxy/api/v1/query");
    expect(queryEndpoint({ clusters: [], singles: [], alerts: [], alertmanagers: [] }, "mon")).toBeUndefined();
  });
});

const answer = (result: Array<Record<string, string>>): unknown => ({
  status: "success",
  data: { resultType: "vector", result: result.map((metric) => ({ metric, value: [1764763200.123, "1"] })) },
});

describe("stage 7: series for the test objects", () => {
  it("reads a vector answer and rejects errors", () => {
    expect(vectorOf(answer([{ __name__: "up", job: "x" }]), "up")).toHaveLength(1);
    expect(() => vectorOf({ status: "error", errorType: "bad_data", error: "unknown function" }, "nope()")).toThrow("query nope(): unknown function");
    expect(() => vectorOf({ status: "success", data: { resultType: "matrix", result: [] } }, "up[5m]")).toThrow("expected a vector, got matrix");
  });

  it("every tenant Node needs kube_node_info or node_uname_info", () => {
    const ksm = vectorOf(answer([{ __name__: "kube_node_info", node: "w1", kernel_version: "6.8.0" }]), "kube_node_info");
    const exporter = vectorOf(answer([{ __name__: "node_uname_info", nodename: "w2" }]), "node_uname_info");
    expect(judgeNodeMetrics(["w1", "w2"], ksm, exporter).verdict).toBe("passed");
    expect(judgeNodeMetrics(["w1", "w2", "w3"], ksm, exporter)).toMatchObject({ verdict: "failed", reason: expect.stringContaining("Node(s) w3") });
  });

  it("every VM needs pve_up{id=qemu/<vmid>}; none at all says Proxmox is not scraped", () => {
    const up = vectorOf(answer([{ __name__: "pve_up", id: "qemu/120" }, { __name__: "pve_up", id: "node/pve1" }]), "pve_up");
    expect(judgeVmMetrics([{ node: "w1", vmid: 120 }], up).verdict).toBe("passed");
    expect(judgeVmMetrics([{ node: "w1", vmid: 120 }, { node: "w2", vmid: 121 }], up)).toMatchObject({ verdict: "failed", reason: "no pve_up series for VM 121 (Node w2)" });
    expect(judgeVmMetrics([{ node: "w1", vmid: 120 }], [])).toMatchObject({ verdict: "failed", reason: expect.stringContaining("no Proxmox metrics") });
  });
});

describe("stage 7: alerting rules", () => {
  const rules = (health: string[]): unknown => ({
    status: "success",
    data: { groups: [{ name: "kubernetes-apps", type: "prometheus", rules: health.map((h, i) => ({ name: `Rule${i}`, type: "alerting", health: h, lastError: h === "ok" ? "" : "parse error" })) }] },
  });
  it("needs VMRules, loaded alerting rules, none failing", () => {
    expect(judgeRules(12, [rulesOf(rules(["ok", "ok"]))])).toMatchObject({ verdict: "passed", figures: { alertingRules: 2 } });
    expect(judgeRules(0, []).verdict).toBe("failed");
    expect(judgeRules(3, [rulesOf({ data: { groups: [] } })])).toMatchObject({ verdict: "failed", reason: expect.stringContaining("no alerting rule loaded") });
    expect(judgeRules(3, [rulesOf(rules(["ok", "err"]))])).toMatchObject({ verdict: "failed", reason: "1 of 2 alerting rules fail to evaluate: kubernetes-apps/Rule1: parse error" });
    expect(() => rulesOf({ status: "success" })).toThrow("no data.groups");
  });
});
