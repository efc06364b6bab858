/**
 * Stage 6's judgements on what the APIs return: the CNI's workloads, what a probe pod
 * found, the LoadBalancer Service's address against MetalLB's pools, and whether that
 * address answered.
 */
import type { KubeObject } from "../../kube/index.js";
import { fail, pass, skip, warn, type CheckOutcome } from "../model.js";
import { contains, parseCidr, parseIpv4, single } from "../../config/index.js";
import { podState } from "../tenant/pods.js";

const ref = (o: KubeObject): string => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** Problems of DaemonSets (not ready everywhere) and Deployments (not all available). */
export function workloadProblems(daemonSets: readonly KubeObject[], deployments: readonly KubeObject[]): string[] {
  const problems: string[] = [];
  for (const ds of daemonSets) {
    const s = (ds["status"] as { desiredNumberScheduled?: number; numberReady?: number } | undefined) ?? {};
    if ((s.desiredNumberScheduled ?? 0) === 0) problems.push(`DaemonSet ${ref(ds)} runs on no node`);
    else if ((s.numberReady ?? 0) < (s.desiredNumberScheduled ?? 0)) problems.push(`DaemonSet ${ref(ds)} has ${s.numberReady ?? 0} of ${s.desiredNumberScheduled} pods ready`);
  }
  for (const d of deployments) {
    const want = Math.max(1, (d["spec"] as { replicas?: number } | undefined)?.replicas ?? 1);
    const available = (d["status"] as { availableReplicas?: number } | undefined)?.availableReplicas ?? 0;
    if (available < want) problems.push(`Deployment ${ref(d)} has ${available} of ${want} replicas available`);
  }
  return problems;
}

const named = (objects: readonly KubeObject[], name: RegExp): KubeObject[] => objects.filter((o) => name.test(o.metadata.name));

/** Nodes whose NetworkUnavailable condition is True (the CNI has not set up their network). */
export function networkUnavailable(nodes: readonly KubeObject[]): string[] {
  return nodes
    .filter((n) => ((n["status"] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === "NetworkUnavailable" && c.status === "True"))
    .map((n) => n.metadata.name);
}

/** Cilium: its agent DaemonSet ready on every node, its operator available, no Node without network. */
export function judgeCilium(daemonSets: readonly KubeObject[], deployments: readonly KubeObject[], nodes: readonly KubeObject[]): CheckOutcome {
  const agents = named(daemonSets, /^cilium$/);
  const operators = named(deployments, /^cilium-operator$/);
  if (agents.length === 0) return fail("no cilium DaemonSet in the tenant cluster: Cilium is not installed", "check the tenant's cilium HelmRelease in the management cluster (kubectl get hr -n <tenant namespace>)");
  const problems = workloadProblems(agents, operators);
  if (operators.length === 0) problems.push("no cilium-operator Deployment");
  const down = networkUnavailable(nodes);
  if (down.length > 0) problems.push(`NetworkUnavailable on Node(s) ${down.join(", ")}`);
  if (problems.length > 0) return fail(problems.join("; "), "kubectl -n cozy-cilium get pods -o wide; cilium status in an agent pod names the broken part");
  const desired = (agents[0]?.["status"] as { desiredNumberScheduled?: number } | undefined)?.desiredNumberScheduled ?? 0;
  return pass(`Cilium agent ready on ${desired} node(s), operator available`);
}

/** Kube-OVN where used: every kube-ovn workload ready; not used → skipped, with that reason. */
export function judgeKubeOvn(daemonSets: readonly KubeObject[], deployments: readonly KubeObject[]): CheckOutcome {
  const ds = named(daemonSets, /^(kube-ovn-|ovs-ovn)/);
  const dep = named(deployments, /^kube-ovn-/);
  if (ds.length + dep.length === 0) return skip("Kube-OVN is not used in this cluster (no kube-ovn workloads)");
  const problems = workloadProblems(ds, dep);
  if (problems.length > 0) return fail(problems.join("; "), "kubectl -n cozy-kubeovn get pods -o wide; the kube-ovn-controller log names the broken part");
  return pass(`Kube-OVN ready: ${[...ds, ...dep].map((o) => o.metadata.name).join(", ")}`);
}

/** What one probe pod found. */
export type ProbeResult =
  | { readonly kind: "reached"; readonly detail: string }
  | { readonly kind: "blocked"; readonly detail: string }
  | { readonly kind: "error"; readonly detail: string };

/**
 * A probe that got `token` reached the server; one that timed out was blocked (Cilium
 * drops denied packets); anything else (refused, wrong answer, did not run) is an error,
 * never taken for a block.
 */
export function probeResult(pod: KubeObject | undefined, token: string): ProbeResult {
  const s = podState(pod);
  const said = s.message ?? "";
  if (s.phase === "Succeeded" && s.exitCode === 0) {
    return said === token ? { kind: "reached", detail: "got the server's answer" } : { kind: "error", detail: `answered ${JSON.stringify(said.slice(0, 200))}, not the test server's token` };
  }
  if (s.phase === "Failed" && /timed out/i.test(said)) return { kind: "blocked", detail: `timed out (${said.slice(0, 200)})` };
  if (s.phase === "Failed") return { kind: "error", detail: `exit ${s.exitCode ?? "?"}: ${said.slice(0, 200) || "no message"}` };
  return { kind: "error", detail: `the probe pod did not run to an end: ${s.phase}${s.waitingReason ? ` (${s.waitingReason}${s.waitingMessage ? `: ${s.waitingMessage}` : ""})` : ""}` };
}

/** IPv4 membership in a MetalLB address entry: `a.b.c.d-e.f.g.h` or `a.b.c.d/nn`. */
export function inPoolEntry(ip: string, entry: string): boolean {
  const value = parseIpv4(ip.trim());
  if (value === undefined) return false;
  const range = /^\s*([\d.]+)\s*-\s*([\d.]+)\s*$/.exec(entry);
  if (range) {
    const [first, last] = [parseIpv4(range[1]), parseIpv4(range[2])];
    return first !== undefined && last !== undefined && contains({ first, last }, single(value));
  }
  const cidr = parseCidr(entry.trim());
  return cidr !== undefined && contains(cidr, single(value));
}

/** The Service's first ingress IP (or hostname), if it has one. */
export function lbAddressOf(service: KubeObject | undefined): string | undefined {
  const ingress = (service?.["status"] as { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } } | undefined)?.loadBalancer?.ingress?.[0];
  return ingress?.ip ?? ingress?.hostname;
}

/**
 * The address came from a MetalLB IPAddressPool. `pools` undefined: the cluster does not
 * serve MetalLB's API, so where the address came from cannot be confirmed (a warning).
 */
export function judgeLbAddress(service: KubeObject | undefined, pools: readonly KubeObject[] | undefined): CheckOutcome {
  const address = lbAddressOf(service);
  if (!address) return fail("the LoadBalancer Service got no address", "install MetalLB in the tenant cluster with an IPAddressPool and an L2Advertisement on the Proxmox bridge's network, or check its controller's log");
  if (!pools) return warn(`the address ${address} was assigned, but this cluster does not serve MetalLB's API (metallb.io/v1beta1), so it is not confirmed to be MetalLB's`, "run MetalLB in the tenant cluster, or accept the other load-balancer implementation", `LoadBalancer address ${address}`);
  const pool = pools.find((p) => ((p["spec"] as { addresses?: string[] } | undefined)?.addresses ?? []).some((entry) => inPoolEntry(address, entry)));
  if (!pool) {
    const all = pools.flatMap((p) => ((p["spec"] as { addresses?: string[] } | undefined)?.addresses ?? []).map((a) => `${p.metadata.name}: ${a}`));
    return fail(`the address ${address} is in no MetalLB IPAddressPool (${all.join(", ") || "no pools"})`, "another controller assigned it: find it (kubectl get svc -o yaml, annotations/events) and leave LoadBalancer Services to MetalLB");
  }
  return pass(`LoadBalancer address ${address} from MetalLB pool ${pool.metadata.namespace ?? ""}/${pool.metadata.name}`);
}

/** What a request from this host to the address got. */
export interface HostProbe {
  readonly ok: boolean;
  readonly detail: string;
}

/** The address answers: from inside the cluster, and from the host running the stages. */
export function judgeLbAnswers(address: string, inCluster: ProbeResult, fromHost: HostProbe): CheckOutcome {
  if (inCluster.kind !== "reached" && !fromHost.ok) {
    return fail(`${address} does not answer: from a pod ${inCluster.detail}; from this host ${fromHost.detail}`, "check the Service's endpoints (kubectl get endpointslices) and MetalLB's speaker log (L2 announcements on the nodes' network)");
  }
  if (inCluster.kind !== "reached") return fail(`${address} answers this host but not a pod in the cluster: ${inCluster.detail}`, "hairpin traffic to LoadBalancer addresses fails: check kube-proxy/Cilium's handling of external IPs");
  if (!fromHost.ok) {
    return warn(
      `${address} answers inside the cluster, but not from this host (${fromHost.detail}): MetalLB's announcement is not proven`,
      "run the stages from a host on the Proxmox bridge's network, or check MetalLB's L2Advertisement and speaker log",
      `${address} answered a pod`,
    );
  }
  return pass(`${address} answered a pod in the cluster and this host`);
}
