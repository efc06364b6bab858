/**
 * Stage 7 — monitoring: the metrics stack in the management cluster (CozyStack's
 * VictoriaMetrics in the monitoring namespace, `tenant-root` by default) is operational and
 * answers queries; the tenant's Nodes, a test pod and the Nodes' Proxmox VMs have series in
 * it; alerting rules are loaded and evaluate.
 *
 * Queries go through the management API server's service proxy, so the stage needs no
 * network path to the metrics Services, only the kubeconfig.
 */
import { type KubeClient, type KubeObject, WaitTimeoutError } from "../../kube/index.js";
import type { StageContext } from "../input.js";
import { fail, pass, type CheckOutcome } from "../model.js";
import type { CheckSpec } from "../runner.js";
import { formatDuration, timeLeft } from "../timeouts.js";
import { defaultMonitoringNamespace, defaultProbeImage, type TenantInput } from "../tenant/input.js";
import { TestObjects } from "../tenant/objects.js";
import { describePod, podReadyOrEnded, podState } from "../tenant/pods.js";
import { vmOfNode } from "../tenant/vms.js";
import { idlePod, testNamespace } from "../workloads/index.js";
import {
  judgeNodeMetrics,
  judgeRules,
  judgeStack,
  judgeVmMetrics,
  proxyPath,
  queryEndpoint,
  rulesOf,
  vectorOf,
  vmApi,
  type MetricsStack,
  type QueryEndpoint,
  type Sample,
} from "./checks.js";

const testPod = "stage7-idle";

export class Stage7Run {
  readonly objects: TestObjects;
  readonly monitoringNamespace: string;
  readonly namespace: string;
  stack: MetricsStack | undefined;
  endpoint: QueryEndpoint | undefined;

  constructor(
    readonly tenant: TenantInput,
    /** The management cluster, where the metrics stack runs. */
    readonly management: KubeClient,
  ) {
    this.objects = new TestObjects(tenant.client, 7, tenant.probeImage ?? defaultProbeImage, tenant.runId);
    this.monitoringNamespace = tenant.monitoringNamespace ?? defaultMonitoringNamespace;
    this.namespace = this.objects.namespaceName();
  }

  /** An instant query; its samples. */
  async query(promql: string): Promise<Sample[]> {
    if (!this.endpoint) throw new Error("no query endpoint (metrics.stack did not find one)");
    const body = await this.management.request({ method: "GET", path: proxyPath(this.endpoint, "/api/v1/query"), query: { query: promql }, about: `metrics query ${promql}` });
    return vectorOf(body, promql);
  }
}

/** Lists a VictoriaMetrics kind; a cluster without the operator's API has none. */
async function listVm(client: KubeClient, kind: string, namespace?: string): Promise<KubeObject[] | undefined> {
  try {
    return (await client.list(vmApi, kind, namespace ? { namespace } : {})).items;
  } catch (error) {
    if (/does not serve kind/.test((error as Error).message)) return undefined;
    throw error;
  }
}

async function stack(s: Stage7Run): Promise<CheckOutcome> {
  const ns = s.monitoringNamespace;
  const [clusters, singles, alerts, alertmanagers] = await Promise.all(["VMCluster", "VMSingle", "VMAlert", "VMAlertmanager"].map((k) => listVm(s.management, k, ns)));
  if (!clusters && !singles) return fail(`the management cluster does not serve ${vmApi}: the VictoriaMetrics operator is not installed`, "install CozyStack's victoria-metrics-operator and enable monitoring on the tenant (monitoring: true)");
  s.stack = { clusters: clusters ?? [], singles: singles ?? [], alerts: alerts ?? [], alertmanagers: alertmanagers ?? [] };
  s.endpoint = queryEndpoint(s.stack, ns);
  return judgeStack(s.stack, ns);
}

async function api(s: Stage7Run): Promise<CheckOutcome> {
  const started = performance.now();
  const samples = await s.query("vector(1)");
  const ms = Math.round(performance.now() - started);
  if (samples.length !== 1 || samples[0]?.value[1] !== "1") return fail(`the metrics API answered vector(1) with ${JSON.stringify(samples).slice(0, 200)}`, `query ${s.endpoint?.service} by hand; this is not a Prometheus-compatible answer`);
  return pass(`${s.endpoint?.service} answers queries (${ms} ms through the API server's service proxy)`, { queryMs: ms });
}

async function nodes(s: Stage7Run): Promise<CheckOutcome> {
  const names = (await s.tenant.client.list("v1", "Node")).items.map((n) => n.metadata.name).sort();
  const [ksm, exporter] = await Promise.all([s.query("kube_node_info"), s.query("node_uname_info")]);
  return judgeNodeMetrics(names, ksm, exporter);
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

async function podMetrics(ctx: StageContext, s: Stage7Run, signal: AbortSignal): Promise<CheckOutcome> {
  const started = performance.now();
  const limit = ctx.input.timeouts["metrics.appear"];
  const base = s.objects.base(s.namespace);
  await s.objects.apply([...testNamespace(base), ...idlePod(base, testPod)]);
  try {
    const pod = await s.objects.waitPod(s.namespace, testPod, podReadyOrEnded, timeLeft(limit, started, limit / 2), signal);
    if (!podState(pod).ready) return fail(`the test pod did not start: ${describePod(pod, testPod)}`, `kubectl -n ${s.namespace} describe pod ${testPod}`);
  } catch (error) {
    if (error instanceof WaitTimeoutError) return fail(error.message, `kubectl -n ${s.namespace} describe pod ${testPod}`);
    throw error;
  }
  const running = performance.now();
  const promql = `kube_pod_info{namespace="${s.namespace}",pod="${testPod}"}`;
  // A metrics API has no watch: ask again every poll.metrics until the series shows up.
  while (performance.now() - started < limit - ctx.input.timeouts["poll.metrics"] - 2_000) {
    if ((await s.query(promql)).length > 0) {
      const ms = Math.round(performance.now() - running);
      return pass(`${promql} appeared ${formatDuration(ms)} after the pod ran`, { appearMs: ms });
    }
    await pause(ctx.input.timeouts["poll.metrics"], signal);
  }
  return fail(`${promql} did not appear within ${formatDuration(limit)}`, "the tenant's kube-state-metrics and vmagent do not reach this metrics stack: enable the tenant's monitoring agents and check vmagent's remote write");
}

async function vms(ctx: StageContext, s: Stage7Run): Promise<CheckOutcome> {
  const tenantNodes = (await s.tenant.client.list("v1", "Node")).items;
  const resources = await ctx.vmResources();
  const found: Array<{ node: string; vmid: number }> = [];
  for (const node of tenantNodes) found.push({ node: node.metadata.name, vmid: (await vmOfNode(ctx.api, node, resources)).vmid });
  return judgeVmMetrics(found, await s.query("pve_up"));
}

async function rules(s: Stage7Run): Promise<CheckOutcome> {
  const vmRules = (await listVm(s.management, "VMRule")) ?? [];
  const loaded = [];
  for (const alert of s.stack?.alerts ?? []) {
    const endpoint: QueryEndpoint = { namespace: s.monitoringNamespace, service: `vmalert-${alert.metadata.name}`, port: "http", prefix: "" };
    loaded.push(rulesOf(await s.management.request({ method: "GET", path: proxyPath(endpoint, "/api/v1/rules"), about: `vmalert ${alert.metadata.name} rules` })));
  }
  const groups = vmRules.reduce((n, r) => n + ((r["spec"] as { groups?: unknown[] } | undefined)?.groups?.length ?? 0), 0);
  const outcome = judgeRules(vmRules.length, loaded);
  return outcome.verdict === "passed" ? pass(`${outcome.detail ?? ""} (${groups} groups defined)`, outcome.figures as Record<string, number>) : outcome;
}

export function stage7Checks(s: Stage7Run): CheckSpec<StageContext>[] {
  return [
    { id: "metrics.stack", title: `metrics stack operational (VictoriaMetrics in ${s.monitoringNamespace})`, run: () => stack(s) },
    { id: "metrics.api", title: "the metrics API answers queries", needs: ["metrics.stack"], run: () => api(s) },
    { id: "metrics.nodes", title: "node metrics present for every tenant Node", needs: ["metrics.api"], run: () => nodes(s) },
    { id: "metrics.pod", title: "a test pod's metrics appear", needs: ["metrics.api"], timeout: "metrics.appear", run: (ctx, signal) => podMetrics(ctx, s, signal) },
    { id: "metrics.vms", title: "Proxmox metrics present for every tenant Node's VM", needs: ["metrics.api"], run: (ctx) => vms(ctx, s) },
    { id: "alerts.rules", title: "alerting rules loaded and evaluating", needs: ["metrics.stack"], run: () => rules(s) },
  ];
}
