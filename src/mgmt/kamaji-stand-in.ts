/**
 * Kamaji stand-in. The Kamaji control-plane provider (and Kamaji itself) cannot run here:
 * Kamaji runs each tenant's control plane as Pods, and this machine has no container
 * runtime. This small controller plays exactly the provider's part towards Cluster API and
 * capmox, and nothing more, for every KamajiControlPlane owned by a Cluster:
 *
 * - a tenant control plane: a real etcd + kube-apiserver on 127.0.0.1 (what Kamaji would
 *   host), with bootstrap-token authentication on, so the real kubeadm bootstrap provider
 *   creates its join tokens there as it does in a real tenant cluster;
 * - the infrastructure cluster's `spec.controlPlaneEndpoint` (its host and port);
 * - Secrets `<cluster>-kubeconfig` (key `value`, the admin kubeconfig) and `<cluster>-ca`
 *   (`tls.crt`, `tls.key`, the tenant API server's CA), labelled with the cluster name and
 *   owned by the KamajiControlPlane;
 * - the KamajiControlPlane status: initialized, ready, version, replicas, selector,
 *   externalManagedControlPlane.
 * On deletion it stops the tenant control plane, deletes the two Secrets and removes its
 * finalizer. It creates no Machines, no Nodes and no VMs.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type KubeBinaries, type KubeEnv, ServerProcess, startKubeEnv } from "../kube/env/index.js";
import { type KubeClient, type KubeObject, objectKey, Reconciler } from "../kube/index.js";

export const kamajiStandInName = "kamaji-stand-in";
const finalizer = "cozy-proxmox.io/kamaji-stand-in";
const kcpApiVersion = "controlplane.cluster.x-k8s.io/v1alpha1";
const clusterLabel = "cluster.x-k8s.io/cluster-name";

export interface KamajiStandInOptions {
  readonly client: KubeClient;
  /** kube-apiserver, etcd and kube-controller-manager for the tenant control planes. */
  readonly binaries: KubeBinaries & { readonly kubeControllerManager: { readonly path: string } };
  /** Where tenant control planes keep their folders. @default os.tmpdir() */
  readonly tmpRoot?: string;
  /** Log lines, each prefixed with `kamaji-stand-in:` by the caller's convention. */
  readonly log: (line: string) => void;
}

/** A tenant control plane the stand-in runs, by `namespace/name` of its KamajiControlPlane. */
export interface TenantControlPlane {
  readonly cluster: string;
  readonly namespace: string;
  readonly env: KubeEnv;
  /** The tenant's kube-controller-manager (CSR approval and signing, node lifecycle, token cleanup). */
  readonly controllerManager: ServerProcess;
}

/**
 * What kubeadm's `bootstrap-token` phase sets up in a new cluster (Kamaji runs it for each
 * tenant): bootstrap-token holders may file node CSRs, which are approved automatically, and
 * nodes may renew their certificates.
 */
export const kubeadmBootstrapRbac: readonly KubeObject[] = [
  ["kubeadm:kubelet-bootstrap", "system:node-bootstrapper", "system:bootstrappers:kubeadm:default-node-token"],
  ["kubeadm:node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", "system:bootstrappers:kubeadm:default-node-token"],
  ["kubeadm:node-autoapprove-certificate-rotation", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes"],
].map(([name, role, group]) => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRoleBinding",
  metadata: { name: name ?? "" },
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
  subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group }],
}));

/** The tenant's kube-controller-manager: what a Kamaji tenant control plane runs beside its API server. */
function startTenantControllerManager(env: KubeEnv, binary: string): ServerProcess {
  const dir = join(env.dir, "kube-controller-manager");
  mkdirSync(dir, { recursive: true });
  const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text, { mode: 0o600 });
    return join(dir, name);
  };
  return new ServerProcess({
    name: "tenant kube-controller-manager",
    command: binary,
    args: [
      `--kubeconfig=${env.kubeconfigPath}`,
      "--controllers=csrapproving,csrsigning,nodelifecycle,garbagecollector,namespace,bootstrapsigner,tokencleaner",
      // Node client certificates are signed by the CA the API server trusts for clients.
      `--cluster-signing-cert-file=${write("signing.crt", env.clientCa.certPem)}`,
      `--cluster-signing-key-file=${write("signing.key", env.clientCa.keyPem)}`,
      "--leader-elect=false",
      "--use-service-account-credentials=false",
      // Serves nothing: no port to open.
      "--secure-port=0",
      "--v=1",
    ],
    logFile: join(dir, "kube-controller-manager.log"),
  });
}

interface Json {
  [key: string]: unknown;
}

function ownerCluster(kcp: KubeObject): string | undefined {
  const owners = (kcp.metadata["ownerReferences"] as Array<{ kind: string; name: string; apiVersion: string }> | undefined) ?? [];
  return owners.find((o) => o.kind === "Cluster" && o.apiVersion.startsWith("cluster.x-k8s.io/"))?.name;
}

/** Its controller manager and API server at once: the whole control plane is thrown away. */
async function stopTenant(tenant: TenantControlPlane): Promise<void> {
  await Promise.all([tenant.controllerManager.stop(), tenant.env.stop()]);
}

export class KamajiStandIn {
  private readonly tenants = new Map<string, TenantControlPlane>();
  private reconciler: Reconciler | undefined;

  constructor(private readonly options: KamajiStandInOptions) {}

  /** The tenant control planes running now. */
  get controlPlanes(): readonly TenantControlPlane[] {
    return [...this.tenants.values()];
  }

  start(): void {
    const log = (line: string): void => this.options.log(`${kamajiStandInName}: ${line}`);
    this.reconciler = new Reconciler({
      client: this.options.client,
      apiVersion: kcpApiVersion,
      kind: "KamajiControlPlane",
      reconcile: (key, kcp) => this.reconcile(key, kcp, log),
      log,
    });
    this.reconciler.start();
  }

  /** Stops watching and every tenant control plane. */
  async stop(): Promise<void> {
    await this.reconciler?.stop();
    await Promise.all([...this.tenants.values()].map((t) => stopTenant(t)));
    this.tenants.clear();
  }

  private async reconcile(key: string, kcp: KubeObject | undefined, log: (line: string) => void): Promise<void> {
    if (!kcp) return this.forget(key, log);
    if (kcp.metadata["deletionTimestamp"]) return this.finalize(kcp, log);
    const cluster = ownerCluster(kcp);
    // Like the provider: nothing to do until the Cluster controller has set the owner.
    if (!cluster) return;
    await this.apply({ apiVersion: kcpApiVersion, kind: "KamajiControlPlane", metadata: { name: kcp.metadata.name, namespace: kcp.metadata.namespace, finalizers: [finalizer] } });
    const tenant = await this.ensureControlPlane(kcp, cluster, log);
    await this.setEndpoint(kcp, cluster, tenant);
    await this.writeSecrets(kcp, cluster, tenant);
    await this.setStatus(kcp, cluster);
  }

  private async ensureControlPlane(kcp: KubeObject, cluster: string, log: (line: string) => void): Promise<TenantControlPlane> {
    const key = objectKey(kcp);
    const running = this.tenants.get(key);
    if (running) return running;
    const env = await startKubeEnv({
      binaries: this.options.binaries,
      // As a kubeadm cluster: bootstrap tokens, and nodes limited to their own objects.
      authorizationModes: ["Node", "RBAC"],
      extraApiserverArgs: ["--enable-bootstrap-token-auth", "--enable-admission-plugins=NodeRestriction"],
      ...(this.options.tmpRoot ? { tmpRoot: this.options.tmpRoot } : {}),
    });
    const controllerManager = startTenantControllerManager(env, this.options.binaries.kubeControllerManager.path);
    const tenant = { cluster, namespace: kcp.metadata.namespace ?? "", env, controllerManager };
    this.tenants.set(key, tenant);
    for (const binding of kubeadmBootstrapRbac) await env.client.apply(binding, { fieldManager: kamajiStandInName });
    log(`${key}: tenant control plane (kube-apiserver ${env.version}) at ${env.server}`);
    return tenant;
  }

  private async setEndpoint(kcp: KubeObject, cluster: string, tenant: TenantControlPlane): Promise<void> {
    const owner = await this.options.client.get({ apiVersion: "cluster.x-k8s.io/v1beta1", kind: "Cluster", namespace: kcp.metadata.namespace, name: cluster });
    const infra = (owner?.["spec"] as { infrastructureRef?: { apiVersion: string; kind: string; name: string } } | undefined)?.infrastructureRef;
    if (!infra) throw new Error(`Cluster ${cluster} has no infrastructureRef yet`);
    const url = new URL(tenant.env.server);
    await this.apply({
      apiVersion: infra.apiVersion,
      kind: infra.kind,
      metadata: { name: infra.name, namespace: kcp.metadata.namespace },
      spec: { controlPlaneEndpoint: { host: url.hostname, port: Number(url.port) } },
    });
  }

  private async writeSecrets(kcp: KubeObject, cluster: string, tenant: TenantControlPlane): Promise<void> {
    const ownerReferences = [{ apiVersion: kcpApiVersion, kind: "KamajiControlPlane", name: kcp.metadata.name, uid: kcp.metadata["uid"], controller: true, blockOwnerDeletion: true }];
    const metadata = (name: string): Json => ({ name, namespace: kcp.metadata.namespace, labels: { [clusterLabel]: cluster }, ownerReferences });
    const b64 = (text: string): string => Buffer.from(text).toString("base64");
    await this.apply({
      apiVersion: "v1",
      kind: "Secret",
      metadata: metadata(`${cluster}-kubeconfig`),
      type: "cluster.x-k8s.io/secret",
      data: { value: b64(readFileSync(tenant.env.kubeconfigPath, "utf8")) },
    } as unknown as KubeObject);
    await this.apply({
      apiVersion: "v1",
      kind: "Secret",
      metadata: metadata(`${cluster}-ca`),
      type: "kubernetes.io/tls",
      data: { "tls.crt": b64(tenant.env.servingCa.certPem), "tls.key": b64(tenant.env.servingCa.keyPem) },
    } as unknown as KubeObject);
  }

  private async setStatus(kcp: KubeObject, cluster: string): Promise<void> {
    const spec = kcp["spec"] as { replicas?: number; version: string };
    const replicas = spec.replicas ?? 2;
    await this.apply(
      {
        apiVersion: kcpApiVersion,
        kind: "KamajiControlPlane",
        metadata: { name: kcp.metadata.name, namespace: kcp.metadata.namespace },
        status: {
          initialized: true,
          ready: true,
          externalManagedControlPlane: true,
          version: spec.version,
          replicas,
          readyReplicas: replicas,
          updatedReplicas: replicas,
          unavailableReplicas: 0,
          selector: `kamaji.clastix.io/name=${cluster}`,
        },
      },
      "status",
    );
  }

  private async finalize(kcp: KubeObject, log: (line: string) => void): Promise<void> {
    const key = objectKey(kcp);
    await this.forget(key, log);
    const cluster = ownerCluster(kcp) ?? kcp.metadata.labels?.[clusterLabel];
    if (cluster) {
      for (const name of [`${cluster}-kubeconfig`, `${cluster}-ca`]) {
        await this.options.client.delete({ apiVersion: "v1", kind: "Secret", namespace: kcp.metadata.namespace, name });
      }
    }
    const finalizers = ((kcp.metadata["finalizers"] as string[] | undefined) ?? []).filter((f) => f !== finalizer);
    await this.options.client.request({
      method: "PATCH",
      path: await this.options.client.path({ apiVersion: kcpApiVersion, kind: "KamajiControlPlane", namespace: kcp.metadata.namespace, name: kcp.metadata.name }),
      body: [
        { op: "test", path: "/metadata/resourceVersion", value: kcp.metadata.resourceVersion },
        { op: "replace", path: "/metadata/finalizers", value: finalizers },
      ],
      contentType: "application/json-patch+json",
      about: `remove the finalizer of KamajiControlPlane ${key}`,
    });
  }

  private async forget(key: string, log: (line: string) => void): Promise<void> {
    const tenant = this.tenants.get(key);
    if (!tenant) return;
    this.tenants.delete(key);
    await stopTenant(tenant);
    log(`${key}: tenant control plane stopped`);
  }

  private async apply(object: KubeObject, subresource?: string): Promise<void> {
    await this.options.client.apply(object, { fieldManager: kamajiStandInName, ...(subresource ? { subresource } : {}) });
  }
}
