/**
 * Stage 7's judgements on what the APIs return: the VictoriaMetrics objects of the metrics
 * stack (operator.victoriametrics.com/v1beta1, as CozyStack's monitoring runs it), instant
 * query answers (Prometheus HTTP API), and vmalert's rule groups.
 */
import type { KubeObject } from "../../kube/index.js";
import { fail, pass, type CheckOutcome } from "../model.js";

export const vmApi = "operator.victoriametrics.com/v1beta1";

/** The VictoriaMetrics objects of one namespace. */
export interface MetricsStack {
  readonly clusters: readonly KubeObject[];
  readonly singles: readonly KubeObject[];
  readonly alerts: readonly KubeObject[];
  readonly alertmanagers: readonly KubeObject[];
}

const statusOf = (o: KubeObject): string => (o["status"] as { updateStatus?: string } | undefined)?.updateStatus ?? "no status";
const reasonOf = (o: KubeObject): string | undefined => (o["status"] as { reason?: string } | undefined)?.reason;

/** Every storage (VMCluster or VMSingle), vmalert and alertmanager is there and operational. */
export function judgeStack(stack: MetricsStack, namespace: string): CheckOutcome {
  const fix = `kubectl -n ${namespace} get vmcluster,vmsingle,vmalert,vmalertmanager; the monitoring HelmRelease of the tenant (monitoring: true) and the victoria-metrics-operator log say why`;
  const problems: string[] = [];
  if (stack.clusters.length + stack.singles.length === 0) problems.push(`no VMCluster or VMSingle in ${namespace}: no metrics storage`);
  if (stack.alerts.length === 0) problems.push(`no VMAlert in ${namespace}: alerting rules are not evaluated`);
  if (stack.alertmanagers.length === 0) problems.push(`no VMAlertmanager in ${namespace}: alerts go nowhere`);
  for (const o of [...stack.clusters, ...stack.singles, ...stack.alerts, ...stack.alertmanagers]) {
    if (statusOf(o) !== "operational") problems.push(`${o.kind} ${o.metadata.name} is ${statusOf(o)}${reasonOf(o) ? ` (${reasonOf(o)})` : ""}`);
  }
  if (problems.length > 0) return fail(problems.join("; "), fix);
  const names = [...stack.clusters, ...stack.singles, ...stack.alerts, ...stack.alertmanagers].map((o) => `${o.kind} ${o.metadata.name}`);
  return pass(`operational in ${namespace}: ${names.join(", ")}`);
}

/** Where instant queries go: a Service of the stack, reached through the API server's service proxy. */
export interface QueryEndpoint {
  readonly namespace: string;
  readonly service: string;
  /** Service port name. */
  readonly port: string;
  /** Path before `/api/v1/query`. */
  readonly prefix: string;
}

/** vmselect of the VMCluster `shortterm` (CozyStack's), else of the first VMCluster, else the first VMSingle. */
export function queryEndpoint(stack: MetricsStack, namespace: string): QueryEndpoint | undefined {
  const cluster = stack.clusters.find((c) => c.metadata.name === "shortterm") ?? stack.clusters[0];
  if (cluster) return { namespace, service: `vmselect-${cluster.metadata.name}`, port: "http", prefix: "/select/0/prometheus" };
  const single = stack.singles[0];
  if (single) return { namespace, service: `vmsingle-${single.metadata.name}`, port: "http", prefix: "" };
  return undefined;
}

export function proxyPath(endpoint: QueryEndpoint, path: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(endpoint.namespace)}/services/${encodeURIComponent(endpoint.service)}:${endpoint.port}/proxy${endpoint.prefix}${path}`;
}

/** One sample of an instant vector. */
export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

/** The samples of an instant query answer; throws with the API's error when it is not a vector. */
export function vectorOf(body: unknown, query: string): Sample[] {
  const b = body as { status?: string; error?: string; data?: { resultType?: string; result?: Sample[] } } | undefined;
  if (b?.status !== "success") throw new Error(`query ${query}: ${b?.error ?? "the metrics API did not answer with status success"}`);
  if (b.data?.resultType !== "vector" || !Array.isArray(b.data.result)) throw new Error(`query ${query}: expected a vector, got ${b.data?.resultType ?? "nothing"}`);
  return b.data.result;
}

/** Values of label `label` across samples. */
export function labelValues(samples: readonly Sample[], label: string): Set<string> {
  return new Set(samples.map((s) => s.metric[label]).filter((v): v is string => v !== undefined));
}

/** Every tenant Node has node-level series (kube-state-metrics' kube_node_info or node-exporter's node_uname_info). */
export function judgeNodeMetrics(nodes: readonly string[], kubeNodeInfo: readonly Sample[], unameInfo: readonly Sample[]): CheckOutcome {
  if (nodes.length === 0) return fail("the tenant cluster has no Nodes to look for", "add workers and rerun");
  const fromKsm = labelValues(kubeNodeInfo, "node");
  const fromExporter = labelValues(unameInfo, "nodename");
  const missing = nodes.filter((n) => !fromKsm.has(n) && !fromExporter.has(n));
  if (missing.length > 0) {
    return fail(
      `no kube_node_info or node_uname_info series for Node(s) ${missing.join(", ")} in the last 5 minutes`,
      "enable the tenant's monitoring agents (kube-state-metrics, node-exporter, vmagent) and point their remote write at this metrics stack",
    );
  }
  return pass(`node metrics present for ${nodes.length} Node(s): ${nodes.join(", ")}`);
}

/** Every VM of the tenant's Nodes has Proxmox-side series (prometheus-pve-exporter's `pve_up{id="qemu/<vmid>"}`). */
export function judgeVmMetrics(vms: ReadonlyArray<{ node: string; vmid: number }>, pveUp: readonly Sample[]): CheckOutcome {
  const fix = "scrape Proxmox with prometheus-pve-exporter (pve_* metrics) into this metrics stack, with a VMServiceScrape or a static scrape config";
  if (pveUp.length === 0) return fail("the metrics stack has no pve_up series: no Proxmox metrics are collected", fix);
  const ids = labelValues(pveUp, "id");
  const missing = vms.filter((v) => !ids.has(`qemu/${v.vmid}`));
  if (missing.length > 0) return fail(`no pve_up series for ${missing.map((v) => `VM ${v.vmid} (Node ${v.node})`).join(", ")}`, fix);
  return pass(`Proxmox metrics present for ${vms.length} VM(s): ${vms.map((v) => v.vmid).join(", ")}`);
}

/** vmalert's `/api/v1/rules` answer. */
export interface RuleGroups {
  readonly groups: ReadonlyArray<{ readonly name: string; readonly rules: ReadonlyArray<{ readonly name: string; readonly type: string; readonly health?: string; readonly lastError?: string }> }>;
}

export function rulesOf(body: unknown): RuleGroups {
  const groups = (body as { data?: { groups?: RuleGroups["groups"] } } | undefined)?.data?.groups;
  if (!Array.isArray(groups)) throw new Error("vmalert's /api/v1/rules answer has no data.groups");
  return { groups };
}

/** Alerting rules are loaded (VMRule objects exist and vmalert evaluates some) and none fails to evaluate. */
export function judgeRules(vmRules: number, loaded: readonly RuleGroups[]): CheckOutcome {
  const rules = loaded.flatMap((l) => l.groups.flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name }))));
  const alerting = rules.filter((r) => r.type === "alerting");
  if (vmRules === 0) return fail("no VMRule objects in the management cluster: no alerting rules are defined", "the monitoring stack's rules come from VMRule objects (CozyStack's monitoring chart ships them): check its HelmRelease");
  if (alerting.length === 0) return fail(`${vmRules} VMRule object(s) exist, but vmalert has no alerting rule loaded`, "vmalert's ruleSelector does not select them, or their expressions fail to load: the vmalert log says which");
  const broken = alerting.filter((r) => r.health !== undefined && r.health !== "ok");
  if (broken.length > 0) {
    return fail(
      `${broken.length} of ${alerting.length} alerting rules fail to evaluate: ${broken.slice(0, 5).map((r) => `${r.group}/${r.name}: ${r.lastError ?? r.health}`).join("; ")}`,
      "fix the named rules' expressions (or the metrics they need)",
    );
  }
  return pass(`${alerting.length} alerting rules loaded in ${loaded.reduce((n, l) => n + l.groups.length, 0)} groups from ${vmRules} VMRule object(s), all evaluating`, { alertingRules: alerting.length });
}
