/**
 * Stage 6 — network, in the tenant cluster: Cilium (and Kube-OVN where used) healthy; two
 * test pods talk, a default-deny NetworkPolicy blocks them, an allow policy lets the
 * allowed client through while another pod stays blocked; a LoadBalancer Service gets a
 * MetalLB address that answers a pod and this host.
 *
 * Traffic is judged by probe pods (one wget each, exit code and termination message read
 * from the pod status). A policy takes a moment to reach every node, so a wanted result
 * must be seen (blocked: twice in a row) within the check's time limit; a probe that
 * failed in any other way than a timeout is an error, never counted as a block.
 */
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { type KubeObject, type ObjectRef, waitFor, WaitTimeoutError } from "../../kube/index.js";
import type { StageContext } from "../input.js";
import { fail, pass, type CheckOutcome } from "../model.js";
import type { CheckSpec } from "../runner.js";
import { formatDuration, timeLeft } from "../timeouts.js";
import { defaultProbeImage, type TenantInput } from "../tenant/input.js";
import { TestObjects } from "../tenant/objects.js";
import { describePod, podEnded, podReadyOrEnded, podState } from "../tenant/pods.js";
import { allowIngress, denyAllIngress, lbPort, loadBalancer, probePod, probeTimeoutSeconds, serverPod, serverPort, testNamespace } from "../workloads/index.js";
import { judgeCilium, judgeKubeOvn, judgeLbAddress, judgeLbAnswers, lbAddressOf, probeResult, type HostProbe, type ProbeResult } from "./checks.js";


/** At most this many probe pods per wanted result (each takes seconds; this bounds the pods a check creates). */
const maxProbes = 12;

/** Fetches `url` from this host; what it got, never throws. Injectable for tests. */
export type HostFetch = (url: string, timeoutMs: number) => Promise<{ status: number; body: string } | { error: string }>;

export const httpFetch: HostFetch = (url, timeoutMs) =>
  new Promise((resolve) => {
    // A fresh connection per probe: a kept-alive socket would say nothing about the address now.
    const req = request(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk.slice(0, 4096)));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${formatDuration(timeoutMs)}`)));
    req.on("error", (error) => resolve({ error: error.message }));
    req.end();
  });

export class Stage6Run {
  readonly objects: TestObjects;
  readonly token = randomBytes(12).toString("hex");
  readonly namespace: string;
  readonly lbNamespace: string;
  serverIp: string | undefined;
  lbAddress: string | undefined;
  private seq = 0;

  constructor(
    readonly tenant: TenantInput,
    readonly fetch: HostFetch = httpFetch,
  ) {
    this.objects = new TestObjects(tenant.client, 6, tenant.probeImage ?? defaultProbeImage, tenant.runId);
    this.namespace = this.objects.namespaceName();
    // The LoadBalancer test lives apart: the default-deny policy would also block its traffic.
    this.lbNamespace = this.objects.namespaceName("lb");
  }

  get client(): TenantInput["client"] {
    return this.tenant.client;
  }

  /** Runs one probe pod (role `role`) against `url` and returns what it found; the pod is deleted after. */
  async probe(namespace: string, role: string, url: string, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
    this.seq += 1;
    const name = `probe-${role}-${this.seq}`;
    await this.objects.apply(probePod(this.objects.base(namespace), name, role, url));
    const pod = await this.objects.waitPod(namespace, name, podEnded, timeoutMs, signal);
    await this.client.delete({ apiVersion: "v1", kind: "Pod", namespace, name });
    return probeResult(pod, this.token);
  }

  /**
   * Probes until `want` was seen `times` in a row, a probe errs, or time runs out; returns
   * the results seen.
   */
  async probeUntil(role: string, want: "reached" | "blocked", times: number, deadline: number, signal: AbortSignal, namespace = this.namespace, url = `http://${this.serverIp}:${serverPort}/`): Promise<{ ok: boolean; results: ProbeResult[] }> {
    const results: ProbeResult[] = [];
    let streak = 0;
    while (results.length < maxProbes && deadline - performance.now() > (probeTimeoutSeconds + 5) * 1000) {
      const r = await this.probe(namespace, role, url, Math.max(1_000, deadline - performance.now()), signal);
      results.push(r);
      if (r.kind === "error") return { ok: false, results };
      streak = r.kind === want ? streak + 1 : 0;
      if (streak >= times) return { ok: true, results };
    }
    return { ok: false, results };
  }
}

const summary = (results: readonly ProbeResult[]): string => results.map((r) => r.kind).join(", ") || "no probe ran";

async function cilium(s: Stage6Run): Promise<CheckOutcome> {
  const [ds, deps, nodes] = await Promise.all([s.client.list("apps/v1", "DaemonSet"), s.client.list("apps/v1", "Deployment"), s.client.list("v1", "Node")]);
  return judgeCilium(ds.items, deps.items, nodes.items);
}

async function kubeOvn(s: Stage6Run): Promise<CheckOutcome> {
  const [ds, deps] = await Promise.all([s.client.list("apps/v1", "DaemonSet"), s.client.list("apps/v1", "Deployment")]);
  return judgeKubeOvn(ds.items, deps.items);
}

/** Applies a server pod and waits until it is Ready; its pod, or a failed outcome. */
async function startServer(s: Stage6Run, namespace: string, name: string, role: string, timeoutMs: number, signal: AbortSignal): Promise<KubeObject | CheckOutcome> {
  const base = s.objects.base(namespace);
  await s.objects.apply([...testNamespace(base), ...serverPod(base, name, role, s.token)]);
  try {
    const pod = await s.objects.waitPod(namespace, name, podReadyOrEnded, timeoutMs, signal);
    if (!podState(pod).ready) return fail(`the test server did not start: ${describePod(pod, name)}`, `kubectl -n ${namespace} describe pod ${name} (image ${s.objects.image}: set PROBE_IMAGE to a mirror if the cluster cannot pull it)`);
    return pod as KubeObject;
  } catch (error) {
    if (error instanceof WaitTimeoutError) return fail(error.message, `kubectl -n ${namespace} describe pod ${name}`);
    throw error;
  }
}

const isOutcome = (x: KubeObject | CheckOutcome): x is CheckOutcome => "verdict" in x;

async function baseline(ctx: StageContext, s: Stage6Run, signal: AbortSignal): Promise<CheckOutcome> {
  const started = performance.now();
  const limit = ctx.input.timeouts["netpol.probe"];
  const server = await startServer(s, s.namespace, "server", "server", timeLeft(limit, started, limit / 2), signal);
  if (isOutcome(server)) return server;
  s.serverIp = podState(server).podIP;
  if (!s.serverIp) return fail("the test server is Ready but has no pod IP", "look at the CNI (Cilium) on its node");
  const { ok, results } = await s.probeUntil("client", "reached", 1, started + limit - 2_000, signal);
  if (!ok) return fail(`with no policy, a client pod cannot reach the server at ${s.serverIp}:${serverPort}: ${results.at(-1)?.detail ?? "no probe ran"} (probes: ${summary(results)})`, "pod-to-pod traffic is broken before any policy: cilium status and cilium-health in an agent pod");
  return pass(`with no policy, a client pod reached the server at ${s.serverIp}:${serverPort}`, { probes: results.length });
}

async function deny(ctx: StageContext, s: Stage6Run, signal: AbortSignal): Promise<CheckOutcome> {
  const started = performance.now();
  const limit = ctx.input.timeouts["netpol.probe"];
  await s.objects.apply(denyAllIngress(s.objects.base(s.namespace)));
  const { ok, results } = await s.probeUntil("client", "blocked", 2, started + limit - 2_000, signal);
  const ms = Math.round(performance.now() - started);
  if (!ok) {
    const last = results.at(-1);
    if (last?.kind === "error") return fail(`a probe failed in an unexpected way: ${last.detail}`, `kubectl -n ${s.namespace} get pods; the probe's termination message says what wget saw`);
    return fail(`the default-deny policy does not block: the client still reached the server (probes: ${summary(results)})`, "Cilium does not enforce NetworkPolicies: check its policy enforcement mode (policyEnforcementMode) and the agent's log");
  }
  return pass(`default-deny blocks the client (two probes in a row timed out after ${probeTimeoutSeconds} s)`, { ms, probes: results.length });
}

async function allow(ctx: StageContext, s: Stage6Run, signal: AbortSignal): Promise<CheckOutcome> {
  const started = performance.now();
  const limit = ctx.input.timeouts["netpol.probe"];
  await s.objects.apply(allowIngress(s.objects.base(s.namespace), "client", "server"));
  const deadline = started + limit - 2_000;
  const allowed = await s.probeUntil("client", "reached", 1, deadline, signal);
  if (!allowed.ok) return fail(`with the allow policy, the client still cannot reach the server: ${allowed.results.at(-1)?.detail ?? "no probe ran"} (probes: ${summary(allowed.results)})`, "Cilium does not apply the allow rule: cilium policy get in the agent on the server's node");
  const other = await s.probeUntil("other", "blocked", 2, deadline, signal);
  if (!other.ok) {
    const last = other.results.at(-1);
    if (last?.kind === "error") return fail(`a probe failed in an unexpected way: ${last.detail}`, `kubectl -n ${s.namespace} get pods`);
    return fail(`the allow policy lets a pod through that it does not select (probes from role=other: ${summary(other.results)})`, "the policy or its enforcement is too wide: cilium policy get");
  }
  return pass(`the allow policy lets role=client reach the server on ${serverPort}/TCP while role=other stays blocked`, { probes: allowed.results.length + other.results.length });
}

async function lbAddress(ctx: StageContext, s: Stage6Run, signal: AbortSignal): Promise<CheckOutcome> {
  const started = performance.now();
  const limit = ctx.input.timeouts["lb.address"];
  const base = s.objects.base(s.lbNamespace);
  await s.objects.apply([...testNamespace(base), ...loadBalancer(base, "stage6-lb", "lb")]);
  const ref: ObjectRef = { apiVersion: "v1", kind: "Service", namespace: s.lbNamespace, name: "stage6-lb" };
  let service: KubeObject | undefined;
  try {
    service = (await waitFor(s.client, [ref], (o) => lbAddressOf(o) !== undefined, { timeoutMs: timeLeft(limit, started), signal, describe: () => "no address yet" })).values().next().value;
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    service = await s.client.get(ref);
  }
  const pools = await s.client.list("metallb.io/v1beta1", "IPAddressPool").then(
    (l) => l.items,
    (error: unknown) => {
      if (/does not serve kind/.test((error as Error).message)) return undefined;
      throw error;
    },
  );
  const outcome = judgeLbAddress(service, pools);
  s.lbAddress = outcome.verdict === "failed" ? undefined : lbAddressOf(service);
  const ms = Math.round(performance.now() - started);
  return outcome.verdict === "passed" ? pass(`${outcome.detail ?? ""} after ${formatDuration(ms)}`, { assignMs: ms }) : outcome;
}

async function hostProbe(s: Stage6Run, url: string): Promise<HostProbe> {
  const got = await s.fetch(url, probeTimeoutSeconds * 1000);
  if ("error" in got) return { ok: false, detail: got.error };
  if (got.status !== 200) return { ok: false, detail: `HTTP ${got.status}` };
  return got.body.trim() === s.token ? { ok: true, detail: "got the server's answer" } : { ok: false, detail: `answered ${JSON.stringify(got.body.trim().slice(0, 200))}, not the test server's token` };
}

async function lbAnswers(ctx: StageContext, s: Stage6Run, signal: AbortSignal): Promise<CheckOutcome> {
  const started = performance.now();
  const limit = ctx.input.timeouts["netpol.probe"];
  const address = s.lbAddress;
  if (!address) return fail("no LoadBalancer address to probe", "see lb.address");
  const server = await startServer(s, s.lbNamespace, "lb-server", "lb", timeLeft(limit, started, limit / 2), signal);
  if (isOutcome(server)) return server;
  const url = `http://${address}:${lbPort}/`;
  const inCluster = await s.probeUntil("lb-client", "reached", 1, started + limit - 2_000, signal, s.lbNamespace, url);
  const fromHost = await hostProbe(s, url);
  return judgeLbAnswers(address, inCluster.results.at(-1) ?? { kind: "error", detail: "no probe ran" }, fromHost);
}

export function stage6Checks(s: Stage6Run): CheckSpec<StageContext>[] {
  return [
    { id: "cni.cilium", title: "Cilium agents ready on every node, operator available", run: () => cilium(s) },
    { id: "cni.kube-ovn", title: "Kube-OVN healthy (where used)", run: () => kubeOvn(s) },
    { id: "netpol.baseline", title: "without a policy, a client pod reaches a server pod", needs: ["cni.cilium"], timeout: "netpol.probe", run: (ctx, signal) => baseline(ctx, s, signal) },
    { id: "netpol.deny", title: "a default-deny NetworkPolicy blocks the client", needs: ["netpol.baseline"], timeout: "netpol.probe", run: (ctx, signal) => deny(ctx, s, signal) },
    { id: "netpol.allow", title: "an allow policy lets the client through, not another pod", needs: ["netpol.deny"], timeout: "netpol.probe", run: (ctx, signal) => allow(ctx, s, signal) },
    { id: "lb.address", title: "a LoadBalancer Service gets a MetalLB address", needs: ["cni.cilium"], timeout: "lb.address", run: (ctx, signal) => lbAddress(ctx, s, signal) },
    { id: "lb.answers", title: "the LoadBalancer address answers a pod and this host", needs: ["lb.address"], timeout: "netpol.probe", run: (ctx, signal) => lbAnswers(ctx, s, signal) },
  ];
}
