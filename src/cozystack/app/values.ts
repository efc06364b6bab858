/**
 * Values of the app chart. The chart's defaults (values.yaml) are the platform's Proxmox
 * settings, so a user's custom resource only says what is particular to its cluster; and
 * `tenantValues` is the inverse of the chart for a tenant of the config: the `spec` that
 * makes the chart render the tenant's objects exactly as the constructs do.
 */
import { defaults, type NodeGroupConfig, type PlatformConfig, type TemplateRef, type TenantConfig } from "../../config/index.js";
import { csiStorageClass } from "../charts/proxmox-csi.js";
import { getProfile } from "../../versions/index.js";
import { v16Version } from "./versions.js";

export type Values = Record<string, unknown>;

/** Raised when a config cannot be expressed as chart values; names the field and value. */
export class AppValuesError extends Error {
  override readonly name = "AppValuesError";
}

/** Label prefix of node roles (`roles: [x]` is `node-role.kubernetes.io/x: ""`). */
export const roleLabelPrefix = "node-role.kubernetes.io/";
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function templateValues(t: TemplateRef, field = "template"): Values {
  if (t.kind === "id") return { kind: "id", templateId: t.templateId, sourceNode: t.sourceNode };
  if (t.matchPolicy !== "exact") {
    throw new AppValuesError(`proxmox.${field}.matchPolicy: ${JSON.stringify(t.matchPolicy)} cannot be expressed: capmox v1alpha1 matches template tags exactly`);
  }
  return { kind: "tags", tags: [...t.tags] };
}

function proxmoxValues(config: PlatformConfig): Values {
  const p = config.proxmox;
  return {
    template: templateValues(p.template),
    allowedNodes: [...p.allowedNodes],
    bridge: p.bridge,
    ...(p.vlan !== undefined ? { vlan: p.vlan } : {}),
    storage: p.diskStorage,
    ...(p.diskFormat ? { format: p.diskFormat } : {}),
    fullClone: p.fullClone ?? defaults.fullClone,
    ...(p.pool ? { pool: p.pool } : {}),
    bootDevice: p.bootDevice ?? defaults.bootDevice,
    url: p.url,
    insecure: p.tls.insecure,
    region: p.region,
  };
}

const noResources = (): Values => ({ resources: {} });

/**
 * values.yaml: the platform's settings as defaults. It has no `nodeGroups` key on purpose:
 * Helm merges maps, so a default group would be added to every user's groups. Without the
 * key the chart makes one group `md0`; with `nodeGroups: {}` it makes none.
 */
export function defaultValues(config: PlatformConfig): Values {
  const n = config.network;
  return {
    version: getProfile(config.profile).appDefaultVersion,
    storageClass: csiStorageClass,
    controlPlane: {
      replicas: defaults.controlPlaneReplicas,
      serviceType: defaults.serviceType,
      address: "",
      dataStore: "",
      apiServer: noResources(),
      controllerManager: noResources(),
      scheduler: noResources(),
      konnectivity: { server: noResources() },
    },
    network: {
      addressRanges: n.addressRanges.map((r) => ({ start: r.start, end: r.end })),
      prefix: n.prefix,
      gateway: n.gateway,
      dnsServers: [...n.dnsServers],
    },
    clusterNetwork: { podCidr: defaults.podCidr, serviceCidr: defaults.serviceCidr },
    proxmox: proxmoxValues(config),
    sshAuthorizedKeys: [],
    // the platform's Talos template, the default of node groups with bootstrap: talos
    ...(config.proxmox.talosTemplate ? { talos: { template: templateValues(config.proxmox.talosTemplate, "talosTemplate") } } : {}),
    addons: {
      cilium: { valuesOverride: {} },
      proxmoxCcm: { valuesOverride: {} },
      proxmoxCsi: { valuesOverride: {} },
      certManager: { enabled: false, valuesOverride: {} },
      gatewayAPI: { enabled: false },
      fluxcd: { enabled: false, valuesOverride: {} },
    },
  };
}

/** `4096` → `4Gi`, `6100` → `6100Mi`. */
export function memoryQuantity(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024}Gi` : `${mib}Mi`;
}

/** Value names of the `Kubernetes` objects synth writes: CozyStack v0.37's or v1.6's (the chart reads both). */
type Names = "v0.37" | "v1.6";

function nodeGroupValues(group: NodeGroupConfig, path: string, names: Names): Values {
  const roles: string[] = [];
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(group.labels)) {
    const role = key.startsWith(roleLabelPrefix) && value === "" ? key.slice(roleLabelPrefix.length) : undefined;
    if (role !== undefined && dnsLabel.test(role)) roles.push(role);
    else labels[key] = value;
  }
  if (!Number.isInteger(group.diskGiB)) throw new AppValuesError(`${path}.diskGiB: ${group.diskGiB} must be a whole number of GiB`);
  const disk = `${group.diskGiB}Gi`;
  // v1.6 has no `replicas` (the autoscaler's) nor `sockets` (ours): written only when they differ from the chart's defaults.
  const sizing =
    names === "v1.6"
      ? {
          ...(group.replicas !== group.minReplicas ? { replicas: group.replicas } : {}),
          minReplicas: group.minReplicas,
          maxReplicas: group.maxReplicas,
          resources: { cpu: group.sockets * group.cores, memory: memoryQuantity(group.memoryMiB) },
          ...(group.sockets !== 1 ? { sockets: group.sockets } : {}),
          diskSize: disk,
        }
      : {
          replicas: group.replicas,
          minReplicas: group.minReplicas,
          maxReplicas: group.maxReplicas,
          resources: { cpu: group.sockets * group.cores, memory: memoryQuantity(group.memoryMiB) },
          sockets: group.sockets,
          ephemeralStorage: disk,
        };
  return {
    ...sizing,
    ...(roles.length > 0 ? { roles: roles.sort() } : {}),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(group.tags.length > 0 ? { tags: [...group.tags] } : {}),
    ...(group.allowedNodes ? { allowedNodes: [...group.allowedNodes] } : {}),
    ...(group.guestAgentChecks === false ? { guestAgentChecks: false } : {}),
    ...(group.nodeStartupTimeout !== undefined ? { nodeStartupTimeout: group.nodeStartupTimeout } : {}),
    ...(group.unhealthyTimeout !== undefined ? { unhealthyTimeout: group.unhealthyTimeout } : {}),
    ...(group.maxUnhealthy !== undefined ? { maxUnhealthy: group.maxUnhealthy } : {}),
  };
}

/**
 * The custom resource's `spec` for a tenant: what is particular to it (version, control
 * plane, node groups, its node addresses, keys). Proxmox settings come from the chart's
 * defaults, which are the same platform config's.
 */
export function tenantValues(config: PlatformConfig, tenant: TenantConfig): Values {
  const index = config.tenants.indexOf(tenant);
  const path = `tenants[${index < 0 ? tenant.name : index}]`;
  const cp = tenant.controlPlane;
  const names = getProfile(config.profile).appValueNames;
  const nodeGroups: Record<string, Values> = {};
  tenant.nodeGroups.forEach((g, i) => {
    nodeGroups[g.name] = nodeGroupValues(g, `${path}.nodeGroups[${i}]`, names);
  });
  return {
    version: names === "v1.6" ? v16Version(tenant.version) : tenant.version,
    controlPlane: {
      replicas: cp.replicas,
      serviceType: cp.serviceType,
      ...(cp.address ? { address: cp.address } : {}),
      dataStore: cp.dataStore ?? defaults.dataStore,
    },
    nodeGroups,
    ...(tenant.addressRanges ? { network: { addressRanges: tenant.addressRanges.map((r) => ({ start: r.start, end: r.end })) } } : {}),
    clusterNetwork: { podCidr: tenant.podCidr ?? defaults.podCidr, serviceCidr: tenant.serviceCidr ?? defaults.serviceCidr },
    ...(tenant.sshAuthorizedKeys.length > 0 ? { sshAuthorizedKeys: [...tenant.sshAuthorizedKeys] } : {}),
    ...isolationValues(tenant),
  };
}

/** The tenant's own pool and VMID range; its own token lives in its credentials Secret, not in values. */
function isolationValues(tenant: TenantConfig): Values {
  const own = tenant.proxmox;
  const proxmox: Values = {
    ...(own?.pool !== undefined ? { pool: own.pool } : {}),
    ...(own?.vmIdRange !== undefined ? { vmIdRange: { start: own.vmIdRange.start, end: own.vmIdRange.end } } : {}),
  };
  return Object.keys(proxmox).length > 0 ? { proxmox } : {};
}
