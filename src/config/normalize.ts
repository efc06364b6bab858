/**
 * Raw YAML → fully defaulted PlatformConfig. Runs after the shape check, but tolerates a
 * wrong shape (that is already reported) so the cross-field checks can still run and every
 * problem is reported at once. The either/or choices (template, TLS, secret) are decided
 * here, so their conflicts are reported here too.
 */
import { defaults, defaultNamespace } from "./defaults.js";
import { issue } from "./errors.js";
import { normalizeCozystackV1 } from "./cozystack-v1.js";
import type {
  ConfigIssue,
  ControlPlaneConfig,
  CozystackConfig,
  IpRange,
  NetworkConfig,
  NodeGroupConfig,
  PlatformConfig,
  ProfileName,
  ProxmoxConfig,
  SecretSource,
  TemplateRef,
  TenantConfig,
  TenantProxmoxConfig,
  TlsConfig,
  VmIdRange,
} from "./types.js";

type Raw = Record<string, unknown>;

function obj(value: unknown): Raw {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Raw) : {};
}

function list<T = unknown>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

/** Present keys among `keys`, in order. */
function present(raw: Raw, keys: readonly string[]): string[] {
  return keys.filter((k) => raw[k] !== undefined && raw[k] !== false);
}

function template(raw: Raw, issues: ConfigIssue[], at: readonly string[] = ["proxmox", "template"]): TemplateRef {
  const hasId = raw.templateId !== undefined || raw.sourceNode !== undefined;
  const hasTags = raw.tags !== undefined;
  if (hasId && hasTags) {
    issues.push(issue(at, raw, "templateId/sourceNode and tags are exclusive: capmox takes a template id or a selector, never both"));
  } else if (!hasId && !hasTags) {
    issues.push(issue(at, raw, "needs templateId + sourceNode, or tags"));
  } else if (hasId && (raw.templateId === undefined || raw.sourceNode === undefined)) {
    const missing = raw.templateId === undefined ? "templateId" : "sourceNode";
    issues.push(issue([...at, missing], undefined, "is required with a template id: capmox clones templateId from sourceNode"));
  }
  if (hasTags && !hasId) {
    return { kind: "tags", tags: list<string>(raw.tags), matchPolicy: (raw.matchPolicy as "exact") ?? defaults.matchPolicy };
  }
  if (raw.matchPolicy !== undefined && !hasTags) {
    issues.push(issue([...at, "matchPolicy"], raw.matchPolicy, "only applies to a template selected by tags"));
  }
  return { kind: "id", templateId: raw.templateId as number, sourceNode: raw.sourceNode as string };
}

function tls(raw: Raw, issues: ConfigIssue[]): TlsConfig {
  const modes = present(raw, ["caFile", "fingerprint", "insecure"]);
  if (modes.length > 1) {
    issues.push(issue(["proxmox", "tls"], raw, `${modes.join(" and ")} are exclusive: pick one way to trust the certificate`));
  }
  return {
    ...(raw.caFile !== undefined ? { caFile: raw.caFile as string } : {}),
    ...(raw.fingerprint !== undefined ? { fingerprint: raw.fingerprint as string } : {}),
    insecure: (raw.insecure as boolean | undefined) ?? false,
  };
}

function secret(value: unknown, issues: ConfigIssue[], at: (string | number)[] = ["proxmox", "secret"]): SecretSource {
  if (value !== undefined && (value === null || typeof value !== "object")) {
    issues.push(issue(at, value, "must not be inline: use {env: NAME} or {file: PATH}"));
    return { env: defaults.secretEnv };
  }
  const raw = obj(value);
  if (raw.env !== undefined && raw.file !== undefined) {
    issues.push(issue(at, raw, "env and file are exclusive"));
  }
  if (raw.file !== undefined) return { file: raw.file as string };
  return { env: (raw.env as string | undefined) ?? defaults.secretEnv };
}

function proxmox(raw: Raw, issues: ConfigIssue[]): ProxmoxConfig {
  return {
    url: raw.url as string,
    tokenId: raw.tokenId as string,
    secret: secret(raw.secret, issues),
    tls: tls(obj(raw.tls), issues),
    allowedNodes: list(raw.allowedNodes),
    template: template(obj(raw.template), issues),
    ...(raw.talosTemplate !== undefined ? { talosTemplate: template(obj(raw.talosTemplate), issues, ["proxmox", "talosTemplate"]) } : {}),
    bridge: (raw.bridge as string | undefined) ?? defaults.bridge,
    ...(raw.vlan !== undefined ? { vlan: raw.vlan as number } : {}),
    diskStorage: (raw.diskStorage as string | undefined) ?? defaults.diskStorage,
    isoStorage: (raw.isoStorage as string | undefined) ?? defaults.isoStorage,
    ...(raw.pool !== undefined ? { pool: raw.pool as string } : {}),
    region: (raw.region as string | undefined) ?? defaults.region,
    bootDevice: (raw.bootDevice as string | undefined) ?? defaults.bootDevice,
    fullClone: (raw.fullClone as boolean | undefined) ?? defaults.fullClone,
    ...(raw.diskFormat !== undefined ? { diskFormat: raw.diskFormat as "raw" } : {}),
    ...(raw.managementVmIdRange !== undefined ? { managementVmIdRange: vmIdRange(raw.managementVmIdRange) } : {}),
  };
}

function vmIdRange(value: unknown): VmIdRange {
  return { start: obj(value).start as number, end: obj(value).end as number };
}

function tenantProxmox(value: unknown, at: (string | number)[], issues: ConfigIssue[]): TenantProxmoxConfig | undefined {
  if (value === undefined) return undefined;
  const raw = obj(value);
  if (raw.secret !== undefined && raw.tokenId === undefined) {
    issues.push(issue([...at, "secret"], raw.secret, "only applies with tokenId (the tenant's own token)"));
  }
  if (raw.tokenId !== undefined && raw.secret === undefined) {
    issues.push(issue([...at, "secret"], undefined, "is required with tokenId: say where the tenant token's secret comes from, {env: NAME} or {file: PATH}"));
  }
  return {
    ...(raw.pool !== undefined ? { pool: raw.pool as string } : {}),
    ...(raw.vmIdRange !== undefined ? { vmIdRange: vmIdRange(raw.vmIdRange) } : {}),
    ...(raw.tokenId !== undefined ? { tokenId: raw.tokenId as string } : {}),
    ...(raw.tokenId !== undefined && raw.secret !== undefined ? { secret: secret(raw.secret, issues, [...at, "secret"]) } : {}),
  };
}

function ranges(value: unknown): IpRange[] {
  return list(value).map((r) => ({ start: obj(r).start as string, end: obj(r).end as string }));
}

function network(raw: Raw): NetworkConfig {
  return {
    addressRanges: ranges(raw.addressRanges),
    prefix: raw.prefix as number,
    gateway: raw.gateway as string,
    dnsServers: list(raw.dnsServers),
  };
}

function cozystack(raw: Raw): CozystackConfig {
  return {
    rootHost: raw.rootHost as string,
    apiServerEndpoint: raw.apiServerEndpoint as string,
    podCidr: (raw.podCidr as string | undefined) ?? defaults.cozystack.podCidr,
    podGateway: (raw.podGateway as string | undefined) ?? defaults.cozystack.podGateway,
    serviceCidr: (raw.serviceCidr as string | undefined) ?? defaults.cozystack.serviceCidr,
    joinCidr: (raw.joinCidr as string | undefined) ?? defaults.cozystack.joinCidr,
    bundleEnable: list(raw.bundleEnable),
    bundleDisable: list(raw.bundleDisable),
    values: obj(raw.values) as Record<string, Record<string, unknown>>,
  };
}

function controlPlane(raw: Raw): ControlPlaneConfig {
  return {
    replicas: (raw.replicas as number | undefined) ?? defaults.controlPlaneReplicas,
    serviceType: (raw.serviceType as "LoadBalancer" | undefined) ?? defaults.serviceType,
    ...(raw.address !== undefined ? { address: raw.address as string } : {}),
    dataStore: (raw.dataStore as string | undefined) ?? defaults.dataStore,
  };
}

function nodeGroup(raw: Raw): NodeGroupConfig {
  const replicas = (raw.replicas as number | undefined) ?? defaults.nodeGroupReplicas;
  return {
    name: raw.name as string,
    replicas,
    minReplicas: (raw.minReplicas as number | undefined) ?? replicas,
    maxReplicas: (raw.maxReplicas as number | undefined) ?? replicas,
    sockets: (raw.sockets as number | undefined) ?? defaults.sockets,
    cores: (raw.cores as number | undefined) ?? defaults.cores,
    memoryMiB: (raw.memoryMiB as number | undefined) ?? defaults.memoryMiB,
    diskGiB: (raw.diskGiB as number | undefined) ?? defaults.diskGiB,
    tags: list(raw.tags),
    ...(raw.allowedNodes !== undefined ? { allowedNodes: list<string>(raw.allowedNodes) } : {}),
    labels: obj(raw.labels) as Record<string, string>,
    ...(raw.guestAgentChecks === false ? { guestAgentChecks: false } : {}),
    ...(raw.nodeStartupTimeout !== undefined ? { nodeStartupTimeout: raw.nodeStartupTimeout as string } : {}),
    ...(raw.unhealthyTimeout !== undefined ? { unhealthyTimeout: raw.unhealthyTimeout as string } : {}),
    ...(raw.maxUnhealthy !== undefined ? { maxUnhealthy: raw.maxUnhealthy as string } : {}),
  };
}

function tenant(raw: Raw, net: NetworkConfig, index: number, issues: ConfigIssue[]): TenantConfig {
  const name = raw.name as string;
  const isolation = tenantProxmox(raw.proxmox, ["tenants", index, "proxmox"], issues);
  return {
    name,
    namespace: (raw.namespace as string | undefined) ?? defaultNamespace(name),
    version: raw.version as string,
    controlPlane: controlPlane(obj(raw.controlPlane)),
    nodeGroups: list(raw.nodeGroups).map((g) => nodeGroup(obj(g))),
    sshAuthorizedKeys: list(raw.sshAuthorizedKeys),
    addressRanges: raw.addressRanges !== undefined ? ranges(raw.addressRanges) : net.addressRanges,
    podCidr: (raw.podCidr as string | undefined) ?? defaults.podCidr,
    serviceCidr: (raw.serviceCidr as string | undefined) ?? defaults.serviceCidr,
    ...(isolation ? { proxmox: isolation } : {}),
  };
}

/** The defaulted config and the either/or conflicts found on the way. */
export function normalize(rawValue: unknown): { config: PlatformConfig; issues: ConfigIssue[] } {
  const raw = obj(rawValue);
  const issues: ConfigIssue[] = [];
  const net = network(obj(raw.network));
  const config: PlatformConfig = {
    profile: (raw.profile as ProfileName | undefined) ?? defaults.profile,
    proxmox: proxmox(obj(raw.proxmox), issues),
    network: net,
    cozystack: cozystack(obj(raw.cozystack)),
    tenants: list(raw.tenants).map((t, i) => tenant(obj(t), net, i, issues)),
    ...(raw.stages === undefined ? {} : { stages: obj(raw.stages) }),
    ...(raw.cozystackV1 === undefined ? {} : { cozystackV1: normalizeCozystackV1(raw.cozystackV1) }),
  };
  return { config, issues };
}
