/**
 * Stage 3's first two checks: the controllers run and their CRDs are served with the
 * contract labels Cluster API requires.
 *
 * Controllers: in a real management cluster, Deployments Available (found by the image
 * each upstream release ships); in the management environment (`npm run mgmt:up`), the
 * local processes it lists in ConfigMap `cozy-proxmox-env/local-controllers`, each alive
 * and answering on its health endpoint.
 */
import { conditionIs, type KubeClient, type KubeObject } from "../../kube/index.js";
import { httpOk, localControllers } from "../local-controllers.js";
import { fail, pass, type CheckOutcome } from "../model.js";

/** The four controllers stage 3 needs, and how a real cluster's Deployments show them. */
export const requiredControllers = [
  { name: "capi-core", title: "Cluster API core", image: /\/cluster-api-controller:/ },
  { name: "capi-kubeadm", title: "kubeadm bootstrap provider", image: /\/kubeadm-bootstrap-controller:/ },
  { name: "capmox", title: "capmox (Proxmox infrastructure provider)", image: /\/cluster-api-provider-proxmox:/ },
  { name: "ipam", title: "in-cluster IPAM provider", image: /\/cluster-api-ipam-in-cluster-controller:/ },
] as const;

export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Only a loopback endpoint the environment listed is probed. */
export async function healthy(url: string | undefined): Promise<boolean> {
  return url !== undefined && /^http:\/\/127\.0\.0\.1:\d+\//.test(url) && (await httpOk(url));
}

export function imageVersion(image: string): string {
  return image.slice(image.lastIndexOf(":") + 1);
}

async function deployments(client: KubeClient): Promise<CheckOutcome> {
  const all = (await client.list("apps/v1", "Deployment")).items;
  const found: string[] = [];
  const problems: string[] = [];
  for (const wanted of requiredControllers) {
    const match = all.find((d) => containerImages(d).some((i) => wanted.image.test(i)));
    if (!match) {
      problems.push(`no Deployment runs the ${wanted.title}`);
      continue;
    }
    const image = containerImages(match).find((i) => wanted.image.test(i)) ?? "";
    const where = `${match.metadata.namespace}/${match.metadata.name} (${imageVersion(image)})`;
    if (conditionIs("Available")(match)) found.push(where);
    else problems.push(`Deployment ${where} is not Available`);
  }
  if (problems.length > 0) {
    return fail(problems.join("; "), "install the missing providers (CozyStack's capi-providers-* releases and capmox with the in-cluster IPAM provider) and look at the Deployments' events and logs");
  }
  return pass(`Deployments Available: ${found.join(", ")}`);
}

export function containerImages(deployment: KubeObject): string[] {
  const spec = deployment["spec"] as { template?: { spec?: { containers?: Array<{ image?: string }> } } } | undefined;
  return (spec?.template?.spec?.containers ?? []).map((c) => c.image ?? "");
}

/** `capi.controllers`; `profileCapmox` is the capmox version the config's profile pins. */
export async function checkControllers(client: KubeClient, profileCapmox: string): Promise<CheckOutcome> {
  const local = await localControllers(client);
  if (!local) return deployments(client);
  const problems: string[] = [];
  const found: string[] = [];
  for (const wanted of requiredControllers) {
    const entry = local.find((c) => c.name === wanted.name);
    if (!entry) problems.push(`the environment lists no ${wanted.name}`);
    else if (!alive(entry.pid)) problems.push(`${wanted.name} (pid ${entry.pid}) is not running`);
    else if (!(await healthy(entry.healthUrl))) problems.push(`${wanted.name} does not answer on ${entry.healthUrl}`);
    else found.push(`${wanted.name} ${entry.version}`);
  }
  const standIns = local.filter((c) => c.standIn).map((c) => `${c.name} (a stand-in)`);
  if (problems.length > 0) return fail(problems.join("; "), "restart the environment (`npm run mgmt:up`) and look at the controller logs it prints");
  const capmox = local.find((c) => c.name === "capmox");
  const note = capmox && capmox.version !== profileCapmox ? `; capmox ${capmox.version} stands in for ${profileCapmox}` : "";
  return pass(`local processes, healthy: ${found.join(", ")}; also ${standIns.join(", ") || "no stand-ins"}${note}`);
}

/** A CRD that must be served, with the contract label value it must carry (if any). */
interface CrdExpectation {
  readonly name: string;
  readonly version: string;
  readonly contract?: string;
}

export const expectedCrds: readonly CrdExpectation[] = [
  { name: "clusters.cluster.x-k8s.io", version: "v1beta1" },
  { name: "machines.cluster.x-k8s.io", version: "v1beta1" },
  { name: "machinesets.cluster.x-k8s.io", version: "v1beta1" },
  { name: "machinedeployments.cluster.x-k8s.io", version: "v1beta1" },
  { name: "machinehealthchecks.cluster.x-k8s.io", version: "v1beta1" },
  { name: "ipaddresses.ipam.cluster.x-k8s.io", version: "v1beta1" },
  { name: "ipaddressclaims.ipam.cluster.x-k8s.io", version: "v1beta1" },
  { name: "kubeadmconfigs.bootstrap.cluster.x-k8s.io", version: "v1beta1", contract: "v1beta1" },
  { name: "kubeadmconfigtemplates.bootstrap.cluster.x-k8s.io", version: "v1beta1", contract: "v1beta1" },
  { name: "kamajicontrolplanes.controlplane.cluster.x-k8s.io", version: "v1alpha1", contract: "v1alpha1" },
  { name: "proxmoxclusters.infrastructure.cluster.x-k8s.io", version: "v1alpha1", contract: "v1alpha1" },
  { name: "proxmoxmachines.infrastructure.cluster.x-k8s.io", version: "v1alpha1", contract: "v1alpha1" },
  { name: "proxmoxmachinetemplates.infrastructure.cluster.x-k8s.io", version: "v1alpha1", contract: "v1alpha1" },
  { name: "inclusterippools.ipam.cluster.x-k8s.io", version: "v1alpha2" },
];

/** What is wrong with one CRD as the server holds it (undefined: absent). */
export function crdProblem(expected: CrdExpectation, crd: KubeObject | undefined): string | undefined {
  if (!crd) return `${expected.name} is not installed`;
  const versions = ((crd["spec"] as { versions?: Array<{ name: string; served: boolean }> }).versions ?? []).filter((v) => v.served).map((v) => v.name);
  if (!versions.includes(expected.version)) return `${expected.name} does not serve ${expected.version} (serves ${versions.join(", ") || "nothing"})`;
  if (expected.contract) {
    const label = crd.metadata.labels?.["cluster.x-k8s.io/v1beta1"];
    if (!label?.split("_").includes(expected.contract)) {
      return `${expected.name} lacks the contract label cluster.x-k8s.io/v1beta1=${expected.contract} (has ${label ?? "none"}): Cluster API refuses references to it`;
    }
  }
  if (!conditionIs("Established")(crd)) return `${expected.name} is not Established`;
  return undefined;
}

/** `capi.crds`. */
export async function checkCrds(client: KubeClient): Promise<CheckOutcome> {
  const problems: string[] = [];
  for (const expected of expectedCrds) {
    const crd = await client.get({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: expected.name });
    const problem = crdProblem(expected, crd);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) return fail(problems.join("; "), "install the providers' components (CRDs with their contract labels) at the versions the profile names");
  return pass(`${expectedCrds.length} CRDs served at the expected versions, contract labels present`);
}
