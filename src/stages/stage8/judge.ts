/**
 * Stage 8's judgements, pure functions of what the management cluster, the tenant cluster
 * and Proxmox return: the application kind and Flux served, the HelmRelease cozystack-api
 * made, the Machines and Nodes of the new tenant, whether the PVC workload can run in it,
 * and what is left after the delete.
 */
import { conditionIs, describeCondition, type ApiResource, type KubeObject } from "../../kube/index.js";
import { fail, pass, type CheckOutcome } from "../model.js";
import { nodeProblems } from "../stage4/index.js";
import { csiProvisioner } from "../stage5/index.js";
import { formatDuration } from "../timeouts.js";

/** How helm-controller was found: where it runs, or what is wrong with it. */
export type ControllerState = { readonly ok: true; readonly where: string } | { readonly ok: false; readonly problem: string };

/** `lifecycle.api`: the `Kubernetes` kind and HelmRelease are served, and helm-controller runs. */
export function judgeApi(application: ApiResource | undefined, helmRelease: ApiResource | undefined, helmController: ControllerState): CheckOutcome {
  const problems: string[] = [];
  if (!application) problems.push("the management cluster does not serve apps.cozystack.io/v1alpha1 Kubernetes (cozystack-api is not running, or the kubernetes-proxmox resource definition is not installed)");
  if (!helmRelease) problems.push("the management cluster does not serve helm.toolkit.fluxcd.io/v2 HelmRelease (Flux is not installed)");
  if (!helmController.ok) problems.push(helmController.problem);
  if (problems.length > 0) {
    return fail(
      problems.join("; "),
      "check the cozystack-api and helm-controller Deployments (kubectl -n cozy-system get deploy cozystack-api; kubectl -n cozy-fluxcd get deploy) and that the kubernetes-proxmox-rd release is installed; in the management environment, `npm run mgmt:up` runs both",
    );
  }
  const where = helmController.ok ? helmController.where : "";
  return pass(`Kubernetes served as ${application?.plural}.apps.cozystack.io/v1alpha1, HelmRelease as helm.toolkit.fluxcd.io/v2; helm-controller ${where}`);
}

interface ReleaseStatus {
  readonly history?: ReadonlyArray<{ readonly status?: string; readonly chartName?: string; readonly chartVersion?: string }>;
}

const historyOf = (release: KubeObject | undefined): NonNullable<ReleaseStatus["history"]> => (release?.["status"] as ReleaseStatus | undefined)?.history ?? [];

/** Installed: Ready, and the latest Helm release revision is deployed. */
export function releaseDeployed(release: KubeObject | undefined): boolean {
  return conditionIs("Ready")(release) && historyOf(release)[0]?.status === "deployed";
}

/** helm-controller gave up on it (remediation exhausted): waiting longer changes nothing. */
export function releaseStalled(release: KubeObject | undefined): boolean {
  return conditionIs("Stalled")(release);
}

/** `lifecycle.create`: the HelmRelease cozystack-api made of the object is installed. */
export function judgeRelease(release: KubeObject | undefined, ref: { readonly namespace: string; readonly name: string }, ms: number): CheckOutcome {
  const where = `${ref.namespace}/${ref.name}`;
  if (!release) {
    return fail(`cozystack-api made no HelmRelease ${where} of the Kubernetes object`, "look at cozystack-api's log (kubectl -n cozy-system logs deploy/cozystack-api) and the Kubernetes object's events");
  }
  if (!releaseDeployed(release)) {
    return fail(
      `HelmRelease ${where} is not installed after ${formatDuration(ms)}: ${describeCondition(release, "Ready")}`,
      `kubectl -n ${ref.namespace} describe helmrelease ${ref.name}; helm-controller's log names the chart or install error (the chart comes from HelmRepository cozy-public/cozystack-apps)`,
      { helmReleaseMs: ms },
    );
  }
  const chart = historyOf(release)[0];
  return pass(`HelmRelease ${where} Ready after ${formatDuration(ms)} (chart ${chart?.chartName ?? "?"} ${chart?.chartVersion ?? "?"} deployed)`, { helmReleaseMs: ms });
}

/** A Running Machine of the tenant with the SMBIOS line of its VM. */
export interface MachineVm {
  readonly machine: KubeObject;
  /** `smbios1` of the Machine's VM in Proxmox (undefined: VM not found). */
  readonly smbios1: string | undefined;
}

const nodeRefOf = (machine: KubeObject): string | undefined => (machine["status"] as { nodeRef?: { name?: string } } | undefined)?.nodeRef?.name;
const osImageOf = (node: KubeObject): string => (node["status"] as { nodeInfo?: { osImage?: string } } | undefined)?.nodeInfo?.osImage ?? "";
const standIn = (node: KubeObject): boolean => /kubelet stand-in/.test(osImageOf(node));

/** `lifecycle.nodes`: `workers` Machines Running, each with its Node Ready, its VM's providerID and the tenant's kubelet version. */
export function judgeNodes(machines: readonly MachineVm[], nodes: readonly KubeObject[], version: string, workers: number, ms: number): CheckOutcome {
  const fix = "the VMs did not join: look at the tenant's CSRs and Nodes (kubectl --kubeconfig <tenant> get csr,nodes), at the bootstrap token and CA pin in the KubeadmConfig's Secret; on a real VM, /var/log/cloud-init-output.log";
  const figures = { joinedMs: ms };
  if (machines.length !== workers) return fail(`${machines.length} Machines Running with a Node, the Kubernetes object asked for ${workers}`, fix, figures);
  const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
  const problems = machines.flatMap((m) => nodeProblems(byName.get(nodeRefOf(m.machine) ?? ""), m.machine, m.smbios1, version));
  if (problems.length > 0) return fail(problems.join("; "), fix, figures);
  const names = machines.map((m) => nodeRefOf(m.machine)).join(", ");
  const note = nodes.some(standIn) ? " (registered by the environment's kubelet stand-in)" : "";
  return pass(`${workers} Machines Running, Nodes ${names} Ready ${formatDuration(ms)} after apply, each with its VM's providerID and kubelet ${version}${note}`, figures);
}

/**
 * Why the PVC workload cannot run in this tenant cluster, or undefined when it can: Nodes
 * registered by the environment's kubelet stand-in run no pods (and the management environment
 * installs no CSI plugin). Decided from the tenant cluster itself, never from a flag.
 */
export function workloadNotRunnable(nodes: readonly KubeObject[], csiDriver: KubeObject | undefined): string | undefined {
  const standIns = nodes.filter(standIn).map((n) => n.metadata.name);
  if (standIns.length === 0) return undefined;
  const csi = csiDriver ? "" : `, and the tenant cluster has no CSIDriver ${csiProvisioner}`;
  return `not runnable here: Node(s) ${standIns.join(", ")} are registered by the environment's kubelet stand-in, which runs no pods${csi}; on a real installation this check runs stage 5's PVC writer and reader in the new tenant`;
}

/** What is left of the tenant after its Kubernetes object was deleted. */
export interface Remains {
  /** Objects still in the management cluster (`HelmRelease ns/name`, `Machine ns/name`, …). */
  readonly objects: readonly string[];
  readonly vms: readonly string[];
  readonly isos: readonly string[];
}

/** `lifecycle.delete`: nothing of the tenant is left in the management cluster or in Proxmox. */
export function judgeGone(remains: Remains, vmCount: number, figures: Readonly<Record<string, number>>): CheckOutcome {
  const left = [...remains.objects, ...remains.vms, ...remains.isos];
  if (left.length > 0) {
    return fail(
      `after the Kubernetes object was deleted, these are still there: ${left.join(", ")}`,
      "look at helm-controller's log (the uninstall), then CAPI's and capmox's (the Machines' deletion); `npm run vm-test -- --sweep --yes` removes the VMs",
      { ...figures },
    );
  }
  const total = figures["deleteMs"] ?? 0;
  return pass(`Kubernetes object deleted: HelmRelease, Cluster API objects, namespace, ${vmCount} VM(s) and their cloud-init ISOs gone after ${formatDuration(total)}`, { ...figures });
}
