/**
 * What cloud-init does with a NoCloud ISO before `kubeadm join` runs, as far as the kubelet
 * stand-in needs it: meta-data as jinja variables (`ds.meta_data.instance_id`,
 * `local_hostname`, `v1.local_hostname`; dashes become underscores, an unknown variable
 * renders as `CI_MISSING_JINJA_VAR/<name>`), user-data rendered when it starts with
 * `## template: jinja`, its `write_files`, the `kubeadm join --config <file>` in `runcmd`,
 * and the node's addresses from network-config (netplan v2 or v1).
 */
import { parse } from "yaml";
import { readIsoRoot } from "./iso9660.js";

export class CloudInitError extends Error {
  override readonly name = "CloudInitError";
}

/** A NoCloud seed as the VM sees it. */
export interface NoCloudSeed {
  readonly userData: string;
  readonly metaData: Record<string, unknown>;
  readonly networkConfig?: unknown;
}

/** The seed on an ISO (volume label `cidata`, files user-data, meta-data, network-config). */
export function readSeed(image: Buffer): NoCloudSeed {
  const root = readIsoRoot(image);
  if (root.volumeId.toLowerCase() !== "cidata") throw new CloudInitError(`the ISO's label is '${root.volumeId}', not cidata: no NoCloud seed`);
  const text = (name: string): string | undefined => root.files.get(name)?.toString("utf8");
  const userData = text("user-data");
  const metaData = text("meta-data");
  if (userData === undefined || metaData === undefined) throw new CloudInitError("the seed lacks user-data or meta-data");
  const network = text("network-config");
  return { userData, metaData: (parse(metaData) as Record<string, unknown> | null) ?? {}, ...(network ? { networkConfig: parse(network) as unknown } : {}) };
}

/** The jinja variables cloud-init offers: `ds.meta_data.*`, `v1.*` and the v1 keys at the top. */
export function jinjaVariables(metaData: Record<string, unknown>): Record<string, unknown> {
  const underscored = Object.fromEntries(Object.entries(metaData).map(([k, v]) => [k.replace(/-/g, "_"), v]));
  const v1 = {
    instance_id: underscored["instance_id"],
    local_hostname: underscored["local_hostname"],
    cloud_name: "nocloud",
    platform: "nocloud",
  };
  return { ds: { meta_data: underscored }, v1, ...v1 };
}

function lookup(variables: Record<string, unknown>, path: string): unknown {
  return path.split(".").reduce<unknown>((at, key) => (at && typeof at === "object" ? (at as Record<string, unknown>)[key] : undefined), variables);
}

/** Renders `{{ a.b.c }}` expressions; statements (`{% %}`) are not something CAPI writes. */
export function renderJinja(template: string, variables: Record<string, unknown>): string {
  if (/\{%/.test(template)) throw new CloudInitError("user-data uses jinja statements, which the kubelet stand-in does not render");
  return template.replace(/\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g, (_, path: string) => {
    const value = lookup(variables, path);
    return value === undefined || value === null ? `CI_MISSING_JINJA_VAR/${path}` : String(value);
  });
}

interface WriteFile {
  readonly path: string;
  readonly content?: string;
  readonly encoding?: string;
}

/** The join configuration's text: the file that `kubeadm join --config <file>` in runcmd reads. */
export function kubeadmJoinConfig(seed: NoCloudSeed): string | undefined {
  const jinja = /^## template: *jinja\s*\n/.test(seed.userData);
  const text = jinja ? renderJinja(seed.userData.replace(/^## template: *jinja\s*\n/, ""), jinjaVariables(seed.metaData)) : seed.userData;
  if (!/^#cloud-config/.test(text)) return undefined;
  const config = (parse(text) as { write_files?: WriteFile[]; runcmd?: Array<string | string[]> } | null) ?? {};
  const commands = (config.runcmd ?? []).map((c) => (Array.isArray(c) ? c.join(" ") : c));
  const join = commands.map((c) => /\bkubeadm join\b.*--config[= ](\S+)/.exec(c)?.[1]).find(Boolean);
  if (!join) return undefined;
  const file = (config.write_files ?? []).find((f) => f.path === join);
  if (!file?.content) throw new CloudInitError(`runcmd runs kubeadm join --config ${join}, but write_files has no such file`);
  if (file.encoding && file.encoding !== "text/plain") throw new CloudInitError(`${join} is written with encoding ${file.encoding}, which the kubelet stand-in does not decode`);
  return file.content;
}

/** IPv4 addresses (without prefix) of network-config, v2 (`ethernets.*.addresses`) or v1 (`subnets`). */
export function networkAddresses(networkConfig: unknown): string[] {
  const net = ((networkConfig as { network?: unknown } | undefined)?.network ?? networkConfig) as
    | { version?: number; ethernets?: Record<string, { addresses?: string[] }>; config?: Array<{ subnets?: Array<{ address?: string }> }> }
    | undefined;
  if (!net) return [];
  const raw =
    net.version === 1
      ? (net.config ?? []).flatMap((c) => (c.subnets ?? []).map((s) => s.address ?? ""))
      : Object.values(net.ethernets ?? {}).flatMap((e) => e.addresses ?? []);
  return raw.map((a) => a.split("/")[0] ?? "").filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
}
