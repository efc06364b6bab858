/**
 * What `kubeadm join` takes from its JoinConfiguration (kubeadm.k8s.io v1beta3 or v1beta4),
 * and how the kubelet ends up seeing its extra args: kubeadm writes them into
 * `/var/lib/kubelet/kubeadm-flags.env` as `--name=value` inside double quotes, and systemd
 * splits `$KUBELET_KUBEADM_ARGS` into words, removing quotes. So capmox's
 * `proxmox://'{{ ds.meta_data.instance_id }}'` reaches the kubelet as `proxmox://<uuid>`.
 */
import { parse } from "yaml";

export class JoinConfigError extends Error {
  override readonly name = "JoinConfigError";
}

export interface JoinConfig {
  /** `host:port` of the API server. */
  readonly apiServerEndpoint: string;
  /** `<id>.<secret>`. */
  readonly token: string;
  /** `sha256:<hex>` pins of the cluster CA's public key. */
  readonly caCertHashes: readonly string[];
  readonly unsafeSkipCAVerification: boolean;
  /** `nodeRegistration.name`, if set (else the host name). */
  readonly nodeName?: string;
  /** The kubelet's extra args as the kubelet receives them (quotes removed). */
  readonly kubeletArgs: ReadonlyMap<string, string>;
  /** Taints the node registers with. */
  readonly taints?: ReadonlyArray<{ readonly key: string; readonly value?: string; readonly effect: string }>;
}

/** One word as systemd's word splitting leaves it: single and double quotes removed. */
export function unquoteWord(value: string): string {
  return value.replace(/'([^']*)'|"([^"]*)"/g, (_, single: string | undefined, double: string | undefined) => single ?? double ?? "");
}

function extraArgs(raw: unknown): Map<string, string> {
  const args = new Map<string, string>();
  if (Array.isArray(raw)) for (const a of raw as Array<{ name: string; value: string }>) args.set(a.name, unquoteWord(String(a.value)));
  else if (raw && typeof raw === "object") for (const [k, v] of Object.entries(raw)) args.set(k, unquoteWord(String(v)));
  return args;
}

export function parseJoinConfig(text: string): JoinConfig {
  const doc = (parse(text.replace(/^---\s*\n/, "")) as Record<string, unknown> | null) ?? {};
  if (doc["kind"] !== "JoinConfiguration") throw new JoinConfigError(`the kubeadm config is a ${String(doc["kind"])}, not a JoinConfiguration`);
  const bootstrap = (doc["discovery"] as { bootstrapToken?: Record<string, unknown> } | undefined)?.bootstrapToken;
  if (!bootstrap) throw new JoinConfigError("discovery.bootstrapToken is missing: the stand-in joins with a bootstrap token only");
  const endpoint = bootstrap["apiServerEndpoint"];
  const token = bootstrap["token"];
  if (typeof endpoint !== "string" || typeof token !== "string") throw new JoinConfigError("discovery.bootstrapToken needs apiServerEndpoint and token");
  const registration = (doc["nodeRegistration"] as Record<string, unknown> | undefined) ?? {};
  return {
    apiServerEndpoint: endpoint,
    token,
    caCertHashes: ((bootstrap["caCertHashes"] as string[] | undefined) ?? []).map(String),
    unsafeSkipCAVerification: bootstrap["unsafeSkipCAVerification"] === true,
    ...(typeof registration["name"] === "string" ? { nodeName: registration["name"] } : {}),
    kubeletArgs: extraArgs(registration["kubeletExtraArgs"]),
    ...(Array.isArray(registration["taints"]) ? { taints: registration["taints"] as JoinConfig["taints"] } : {}),
  };
}
