/**
 * Default values, in one place: the loader fills them in, the JSON Schema shows them to
 * editors, and the constructs document them with `@default`.
 */
import type { NodeGroupConfig, PlatformConfig, TenantConfig } from "./types.js";

export const defaults = {
  profile: "cozystack-v0.37",
  secretEnv: "PROXMOX_SECRET",
  bridge: "vmbr0",
  diskStorage: "ceph-vm",
  isoStorage: "local",
  region: "pve",
  bootDevice: "scsi0",
  fullClone: true,
  matchPolicy: "exact",
  controlPlaneReplicas: 2,
  serviceType: "LoadBalancer",
  dataStore: "tenant-root",
  nodeGroupReplicas: 2,
  sockets: 1,
  cores: 2,
  memoryMiB: 4096,
  diskGiB: 20,
  /** MachineHealthCheck: how long a VM may take from creation to a joined Node (clone, boot, cloud-init, join). */
  nodeStartupTimeout: "20m",
  /** MachineHealthCheck: how long a Node may be NotReady or Unknown before its VM is replaced. */
  unhealthyTimeout: "5m",
  podCidr: "10.243.0.0/16",
  serviceCidr: "10.95.0.0/16",
  /** CozyStack's own defaults for the cozystack ConfigMap's `ipv4-*` keys. */
  cozystack: {
    podCidr: "10.244.0.0/16",
    podGateway: "10.244.0.1",
    serviceCidr: "10.96.0.0/16",
    joinCidr: "100.64.0.0/16",
  },
} as const;

/** Namespace of a tenant's CAPI objects when none is given. */
export function defaultNamespace(tenantName: string): string {
  return `tenant-${tenantName}`;
}

/** One node group with every default. */
export function defaultNodeGroup(name: string): NodeGroupConfig {
  return {
    name,
    replicas: defaults.nodeGroupReplicas,
    minReplicas: defaults.nodeGroupReplicas,
    maxReplicas: defaults.nodeGroupReplicas,
    sockets: defaults.sockets,
    cores: defaults.cores,
    memoryMiB: defaults.memoryMiB,
    diskGiB: defaults.diskGiB,
    tags: [],
    labels: {},
  };
}

/** One tenant with every default. */
export function defaultTenant(name: string, version: string): TenantConfig {
  return {
    name,
    namespace: defaultNamespace(name),
    version,
    controlPlane: {
      replicas: defaults.controlPlaneReplicas,
      serviceType: defaults.serviceType,
      dataStore: defaults.dataStore,
    },
    nodeGroups: [defaultNodeGroup("workers")],
    sshAuthorizedKeys: [],
    podCidr: defaults.podCidr,
    serviceCidr: defaults.serviceCidr,
  };
}

/**
 * The built-in platform: the lab's default scenario (`npm run lab`): three nodes pve1..pve3,
 * template 9000 on pve1, bridge vmbr0, storages ceph-vm (shared, disks) and local (ISO), and one tenant cluster.
 */
export function defaultConfig(): PlatformConfig {
  const addressRanges = [{ start: "10.0.0.100", end: "10.0.0.199" }];
  return {
    profile: defaults.profile,
    proxmox: {
      url: "https://127.0.0.1:8006",
      tokenId: "root@pam!cozy",
      secret: { env: defaults.secretEnv },
      tls: { insecure: false },
      allowedNodes: ["pve1", "pve2", "pve3"],
      template: { kind: "id", templateId: 9000, sourceNode: "pve1" },
      bridge: defaults.bridge,
      diskStorage: defaults.diskStorage,
      isoStorage: defaults.isoStorage,
      region: defaults.region,
      bootDevice: defaults.bootDevice,
      fullClone: defaults.fullClone,
    },
    network: {
      addressRanges,
      prefix: 24,
      gateway: "10.0.0.1",
      dnsServers: ["10.0.0.1"],
    },
    cozystack: {
      rootHost: "example.org",
      apiServerEndpoint: "https://10.0.0.10:6443",
      ...defaults.cozystack,
      bundleEnable: [],
      bundleDisable: [],
      values: {},
    },
    tenants: [{ ...defaultTenant("demo", "v1.32.6"), addressRanges }],
  };
}
