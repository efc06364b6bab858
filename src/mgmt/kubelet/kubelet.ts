/**
 * Kubelet stand-in: what cloud-init, `kubeadm join` and a kubelet would do inside a lab VM
 * whose cloud-init ISO carries a kubeadm join. There is no VM to run a kubelet in, so the
 * lab plays that part, and only that part, through the tenant API server's own interfaces:
 *
 * 1. the join configuration from the ISO (cloud-init.ts, join.ts), the kubelet's provider-id
 *    and node name rendered from the ISO's meta-data as cloud-init's jinja would;
 * 2. discovery as kubeadm does it: the API server's certificate chain must contain a CA whose
 *    public key matches a `caCertHashes` pin; then every call verifies TLS against that CA;
 * 3. TLS bootstrap as the kubelet does it: with the bootstrap token, a CSR for
 *    `system:node:<name>` that the tenant's real kube-controller-manager approves and signs;
 * 4. with that certificate: the Node (providerID, labels, the cloud provider's
 *    uninitialized taint, addresses from network-config, kubelet version from meta-data,
 *    capacity from the VM), Ready, and its Lease and Ready condition renewed every 10 s while
 *    the VM runs. When the VM stops the renewals stop, and the tenant's node lifecycle
 *    controller marks the Node as a real cluster would.
 * A token or pin that does not work means the VM never joins; the reason goes to the log.
 */
import { createHash, randomBytes, webcrypto, X509Certificate } from "node:crypto";
import { connect, type PeerCertificate } from "node:tls";
import * as x509 from "@peculiar/x509";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError, KubeClient, waitFor, type KubeObject } from "../../kube/index.js";
import { jinjaVariables, kubeadmJoinConfig, networkAddresses, renderJinja, type NoCloudSeed } from "./cloud-init.js";
import { parseJoinConfig, type JoinConfig } from "./join.js";

const crypto = webcrypto as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[1] & webcrypto.Crypto;
const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** Raised when the join cannot work (bad token, pin, config): the VM never joins. */
export class JoinError extends Error {
  override readonly name = "JoinError";
}

/** What the kubelet needs to know of its VM. */
export interface KubeletVm {
  readonly vmid: number;
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly seed: NoCloudSeed;
}

/** The join a seed asks for, or undefined when its user-data runs no `kubeadm join`. */
export function joinOf(seed: NoCloudSeed): JoinConfig | undefined {
  const text = kubeadmJoinConfig(seed);
  return text === undefined ? undefined : parseJoinConfig(text);
}

/** `sha256:<hex>` of a certificate's SubjectPublicKeyInfo, as kubeadm pins CAs. */
export function spkiPin(certDer: Buffer): string {
  const spki = new X509Certificate(certDer).publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(spki).digest("hex")}`;
}

/** The certificates the server presents, leaf first. */
function presentedChain(host: string, port: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, timeout: 10_000 }, () => {
      const chain: Buffer[] = [];
      let cert: PeerCertificate | undefined = socket.getPeerCertificate(true);
      while (cert?.raw && !chain.some((c) => c.equals(cert!.raw))) {
        chain.push(cert.raw);
        cert = (cert as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
      }
      socket.destroy();
      resolve(chain);
    });
    socket.once("error", reject);
    socket.once("timeout", () => socket.destroy(new Error(`no TLS handshake with ${host}:${port}`)));
  });
}

/** kubeadm's discovery: the CA in the server's chain that a pin names. */
async function discoverCa(join: JoinConfig): Promise<string> {
  const [host, port] = join.apiServerEndpoint.split(":");
  const chain = await presentedChain(host ?? "", Number(port ?? 6443)).catch((e: unknown) => {
    throw new JoinError(`cannot reach the API server ${join.apiServerEndpoint}: ${(e as Error).message}`);
  });
  const pinned = chain.find((der) => join.caCertHashes.includes(spkiPin(der)));
  if (!pinned) {
    throw new JoinError(`the API server ${join.apiServerEndpoint} presents no CA matching caCertHashes ${join.caCertHashes.join(", ") || "(none)"}: refusing to join`);
  }
  return new X509Certificate(pinned).toString();
}

function clientFor(server: string, caPem: string, user: { token?: string; certPem?: string; keyPem?: string }): KubeClient {
  const kc = new KubeConfig();
  const b64 = (s: string): string => Buffer.from(s).toString("base64");
  kc.loadFromOptions({
    clusters: [{ name: "tenant", server, caData: b64(caPem), skipTLSVerify: false }],
    users: [{ name: "kubelet", ...(user.token ? { token: user.token } : {}), ...(user.certPem ? { certData: b64(user.certPem), keyData: b64(user.keyPem ?? "") } : {}) }],
    contexts: [{ name: "kubelet", cluster: "tenant", user: "kubelet" }],
    currentContext: "kubelet",
  });
  return new KubeClient(kc);
}

/** TLS bootstrap: a CSR for `system:node:<name>`, approved and signed by the tenant's controller manager. */
async function bootstrapCertificate(client: KubeClient, nodeName: string, signal: AbortSignal): Promise<{ certPem: string; keyPem: string }> {
  const keys = (await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `O=system:nodes, CN=system:node:${nodeName}`, keys, signingAlgorithm: algorithm }, crypto);
  const name = `node-csr-${randomBytes(6).toString("hex")}`;
  const ref = { apiVersion: "certificates.k8s.io/v1", kind: "CertificateSigningRequest", name };
  try {
    await client.create({
      ...ref,
      metadata: { name },
      spec: { request: Buffer.from(csr.toString("pem")).toString("base64"), signerName: "kubernetes.io/kube-apiserver-client-kubelet", usages: ["digital signature", "client auth"] },
    } as KubeObject);
  } catch (error) {
    if (error instanceof KubeApiError && (error.status === 401 || error.status === 403)) throw new JoinError(`the bootstrap token was refused (HTTP ${error.status}): ${error.message}`);
    throw error;
  }
  const seen = await waitFor(client, [ref], (o) => Boolean((o?.["status"] as { certificate?: string } | undefined)?.certificate), { timeoutMs: 120_000, signal });
  const certificate = (seen.values().next().value?.["status"] as { certificate: string }).certificate;
  const keyPem = `${x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY")}\n`;
  return { certPem: Buffer.from(certificate, "base64").toString("utf8"), keyPem };
}

/** Labels from `--node-labels=a=b,c=d`. */
function nodeLabels(arg: string | undefined): Record<string, string> {
  return Object.fromEntries((arg ?? "").split(",").filter(Boolean).map((kv) => [kv.split("=")[0] ?? "", kv.split("=").slice(1).join("=")]));
}

/** What the kubelet registers and reports: everything but the times. */
export interface NodeRegistration {
  readonly name: string;
  readonly providerID: string;
  readonly kubeletVersion: string;
  readonly addresses: readonly string[];
  readonly labels: Record<string, string>;
  readonly taints: ReadonlyArray<{ key: string; value?: string; effect: string }>;
}

/** The Node the kubelet would register for this VM and join, as cloud-init and kubeadm shape it. */
export function registration(vm: KubeletVm, join: JoinConfig): NodeRegistration {
  const variables = jinjaVariables(vm.seed.metaData);
  const hostname = String(variables["local_hostname"] ?? `vm${vm.vmid}`);
  const name = (join.nodeName ?? hostname).toLowerCase();
  const external = join.kubeletArgs.get("cloud-provider") === "external";
  return {
    name,
    providerID: renderJinja(join.kubeletArgs.get("provider-id") ?? "", variables),
    kubeletVersion: String(vm.seed.metaData["kubernetes-version"] ?? "unknown"),
    addresses: networkAddresses(vm.seed.networkConfig),
    labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", ...nodeLabels(join.kubeletArgs.get("node-labels")) },
    taints: [...(join.taints ?? []), ...(external ? [{ key: "node.cloudprovider.kubernetes.io/uninitialized", value: "true", effect: "NoSchedule" }] : [])],
  };
}

function nodeStatus(vm: KubeletVm, reg: NodeRegistration, now: string): Record<string, unknown> {
  const condition = (type: string, status: string, reason: string) => ({ type, status, reason, message: `kubelet stand-in: ${reason}`, lastHeartbeatTime: now, lastTransitionTime: now });
  const capacity = { cpu: String(vm.cpus), memory: `${vm.memoryMiB}Mi`, pods: "110" };
  return {
    capacity,
    allocatable: capacity,
    addresses: [...reg.addresses.map((address) => ({ type: "InternalIP", address })), { type: "Hostname", address: reg.name }],
    nodeInfo: {
      kubeletVersion: reg.kubeletVersion,
      kubeProxyVersion: "",
      operatingSystem: "linux",
      architecture: "amd64",
      osImage: "kubelet stand-in (cozy-proxmox lab)",
      kernelVersion: "",
      containerRuntimeVersion: "",
      machineID: "",
      systemUUID: /^proxmox:\/\/(.*)$/.exec(reg.providerID)?.[1] ?? "",
      bootID: "",
    },
    conditions: [
      condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
      condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
      condition("PIDPressure", "False", "KubeletHasSufficientPID"),
      condition("Ready", "True", "KubeletReady"),
    ],
  };
}

/** 10 s between renewals, cut short when the VM stops; leaves no listener behind on the signal. */
function renewalPause(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, 10_000);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Joins and then keeps the Node fresh until `signal` aborts (the VM stopped). */
export async function runKubelet(vm: KubeletVm, join: JoinConfig, signal: AbortSignal, log: (line: string) => void): Promise<void> {
  const reg = registration(vm, join);
  const server = `https://${join.apiServerEndpoint}`;
  const caPem = await discoverCa(join);
  const certificate = await bootstrapCertificate(clientFor(server, caPem, { token: join.token }), reg.name, signal);
  const node = clientFor(server, caPem, certificate);
  await node.create({ apiVersion: "v1", kind: "Node", metadata: { name: reg.name, labels: reg.labels }, spec: { providerID: reg.providerID, taints: reg.taints } } as KubeObject).catch((error: unknown) => {
    if (!(error instanceof KubeApiError && error.status === 409)) throw error;
  });
  log(`Node ${reg.name} registered (providerID ${reg.providerID}, kubelet ${reg.kubeletVersion})`);
  const lease = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: reg.name, namespace: "kube-node-lease" } };
  while (!signal.aborted) {
    const now = new Date().toISOString();
    await node.apply({ apiVersion: "v1", kind: "Node", metadata: { name: reg.name }, status: nodeStatus(vm, reg, now) } as KubeObject, { fieldManager: "kubelet", subresource: "status" });
    await node.apply({ ...lease, spec: { holderIdentity: reg.name, leaseDurationSeconds: 40, renewTime: now.replace(/\.(\d{3})Z$/, ".$1000Z") } } as KubeObject, { fieldManager: "kubelet" });
    await renewalPause(signal);
  }
}
