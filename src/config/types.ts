/**
 * The platform description: one typed object, fully defaulted after loading.
 *
 * This file is the contract between config loading (src/config), the model and renderers
 * (src/versions, src/bundles, src/cozystack, src/capi) and the operate layer (src/proxmox,
 * src/stages, src/kube). Secrets are never values here: only where to read them from.
 */

import type { ProfileName } from "../versions/index.js";

/** Name of a versions profile, defined with the profiles themselves (src/versions). */
export type { ProfileName };

/** How the Proxmox API's TLS certificate is checked. Exactly one mode applies. */
export interface TlsConfig {
  /** PEM CA bundle that signed the Proxmox certificate. */
  readonly caFile?: string;
  /** SHA-256 fingerprint of the Proxmox certificate, `AA:BB:…` (as `pvenode cert info` shows it). */
  readonly fingerprint?: string;
  /** Skip verification. Only when the user says so. @default false */
  readonly insecure: boolean;
}

/** Where the API token secret comes from. Never inline. */
export interface SecretSource {
  /** Environment variable that holds the secret. @default "PROXMOX_SECRET" */
  readonly env?: string;
  /** File whose (trimmed) content is the secret. */
  readonly file?: string;
}

/** How capmox finds the VM template: by id on a node, or by tags. Never both. */
export type TemplateRef =
  | { readonly kind: "id"; readonly templateId: number; readonly sourceNode: string }
  | {
      readonly kind: "tags";
      readonly tags: readonly string[];
      /** capmox's templateSelector match policy. @default "exact" */
      readonly matchPolicy: "exact" | "uniqueSubset" | "bestSubset";
    };

export interface ProxmoxConfig {
  /** Base URL, e.g. `https://pve.example.com:8006` (no `/api2/json`). */
  readonly url: string;
  /** Token id `user@realm!tokenname`. */
  readonly tokenId: string;
  readonly secret: SecretSource;
  readonly tls: TlsConfig;
  /** Nodes VMs may be placed on. */
  readonly allowedNodes: readonly string[];
  readonly template: TemplateRef;
  /**
   * The platform's Talos template (made from Talos's nocloud image): the default template of
   * node groups that set `bootstrap: talos` in a `Kubernetes` object (the app chart's
   * `talos.template`); stage 2 checks that Talos can boot from it. Absent: such groups must
   * name their own template.
   */
  readonly talosTemplate?: TemplateRef;
  /** Bridge for VM NICs. @default "vmbr0" */
  readonly bridge: string;
  /** VLAN tag on the bridge, if any. */
  readonly vlan?: number;
  /** Storage for VM disks (full clones); shared, so clones can go to any allowed node. @default "ceph-vm" */
  readonly diskStorage: string;
  /** Storage with `iso` content for capmox's cloud-init ISO. @default "local" */
  readonly isoStorage: string;
  /** Proxmox pool for created VMs, if any. */
  readonly pool?: string;
  /** Proxmox region name for CSI/CCM topology (`topology.kubernetes.io/region`). @default "pve" */
  readonly region: string;
  /** The template's boot disk that capmox resizes (`disks.bootVolume.disk`). @default "scsi0" */
  readonly bootDevice?: string;
  /**
   * Full clones (capmox `full`). Linked clones cannot take a target storage or format, so
   * `diskStorage`/`diskFormat` are only emitted for full clones. @default true
   */
  readonly fullClone?: boolean;
  /** Disk format of full clones; absent keeps the storage's default. */
  readonly diskFormat?: "raw" | "qcow2" | "vmdk";
  /**
   * VMIDs of the management cluster's own VMs (and anything else no tenant may take): no
   * tenant's `vmIdRange` may overlap it. @default - none reserved
   */
  readonly managementVmIdRange?: VmIdRange;
}

/** A range of Proxmox VMIDs, both ends inclusive (capmox `vmIDRange`). */
export interface VmIdRange {
  readonly start: number;
  readonly end: number;
}

/**
 * A tenant's isolation on the Proxmox side: its own pool, VMID range and API token. Without
 * it the tenant shares the platform's pool and token and takes any free VMID, and stage 1
 * warns that tenants are not isolated from each other.
 */
export interface TenantProxmoxConfig {
  /** Proxmox resource pool of this tenant's VMs (capmox `pool`). @default proxmox.pool */
  readonly pool?: string;
  /**
   * VMIDs this tenant's VMs take (capmox `vmIDRange`): never overlapping another tenant's or
   * `proxmox.managementVmIdRange`, and at least every node group's maxReplicas plus one
   * surge machine per group. @default - any free VMID
   */
  readonly vmIdRange?: VmIdRange;
  /**
   * The tenant's own API token `user@realm!name`, privilege-separated and limited to its
   * pool plus what cloning needs; it goes into the tenant's credentials Secret (capmox
   * `credentialsRef`). @default proxmox.tokenId (shared: tenants are not isolated)
   */
  readonly tokenId?: string;
  /** Where the tenant token's secret comes from; required with `tokenId`. */
  readonly secret?: SecretSource;
}

export interface IpRange {
  /** First address, inclusive. */
  readonly start: string;
  /** Last address, inclusive. */
  readonly end: string;
}

/** The node network that Proxmox VMs get addresses from. */
export interface NetworkConfig {
  /** Address ranges handed out to VMs (an IPv4 pool). */
  readonly addressRanges: readonly IpRange[];
  /** Prefix length of the VM subnet. */
  readonly prefix: number;
  readonly gateway: string;
  readonly dnsServers: readonly string[];
}

export interface CozystackConfig {
  /** `root-host` of the cozystack ConfigMap. */
  readonly rootHost: string;
  /** `api-server-endpoint` of the cozystack ConfigMap, e.g. `https://10.0.0.10:6443`. */
  readonly apiServerEndpoint: string;
  readonly podCidr: string;
  readonly podGateway: string;
  readonly serviceCidr: string;
  readonly joinCidr: string;
  /** Optional releases to install (`bundle-enable`). @default [] */
  readonly bundleEnable: readonly string[];
  /** Releases to leave out (`bundle-disable`). @default [] */
  readonly bundleDisable: readonly string[];
  /** Per-release value overrides (the `values-<name>` keys of the cozystack ConfigMap). @default {} */
  readonly values: Readonly<Record<string, Record<string, unknown>>>;
}

/** How the Kamaji control plane is exposed. */
export interface ControlPlaneConfig {
  /** @default 2 */
  readonly replicas: number;
  /** @default "LoadBalancer" */
  readonly serviceType: "LoadBalancer" | "NodePort" | "ClusterIP";
  /** Fixed address for the LoadBalancer service, if any. */
  readonly address?: string;
  /**
   * Kamaji DataStore that holds the tenant's etcd data. CozyStack names a tenant's etcd
   * DataStore after the tenant namespace that runs it. @default "tenant-root"
   */
  readonly dataStore?: string;
}

export interface NodeGroupConfig {
  readonly name: string;
  /** @default 2 */
  readonly replicas: number;
  /** Autoscaler bounds. @default min = max = replicas */
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** @default 1 */
  readonly sockets: number;
  /** @default 2 */
  readonly cores: number;
  /** MiB, a multiple of 8. @default 4096 */
  readonly memoryMiB: number;
  /** GiB. @default 20 */
  readonly diskGiB: number;
  /** Proxmox tags for the VMs (one tag the template lacks is always added). @default [] */
  readonly tags: readonly string[];
  /** Overrides proxmox.allowedNodes for this group. */
  readonly allowedNodes?: readonly string[];
  /** Kubernetes labels on the nodes. @default {} */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Whether capmox waits for the VM's QEMU guest agent and asks it for cloud-init's status
   * before it reports the VM ready. Only for a template whose OS cannot run the agent: set
   * false, and stage 2 no longer requires the template's `agent` option. @default true
   */
  readonly guestAgentChecks?: boolean;
  /**
   * MachineHealthCheck `nodeStartupTimeout`: how long a VM may take from creation to a joined
   * Node (clone, boot, cloud-init, join) before CAPI replaces it. @default "20m"
   */
  readonly nodeStartupTimeout?: string;
  /** MachineHealthCheck: how long a Node may be NotReady or Unknown before its VM is replaced. @default "5m" */
  readonly unhealthyTimeout?: string;
  /**
   * MachineHealthCheck `maxUnhealthy`, a count ("1") or a share ("40%"): above it nothing is
   * replaced, as the cause is then not the VMs. @default 40%, at least one Machine of minReplicas
   */
  readonly maxUnhealthy?: string;
}

export interface TenantConfig {
  readonly name: string;
  /** Namespace of the CAPI objects. @default `tenant-<name>` */
  readonly namespace: string;
  /** Kubernetes version, e.g. `v1.32.4`. */
  readonly version: string;
  readonly controlPlane: ControlPlaneConfig;
  readonly nodeGroups: readonly NodeGroupConfig[];
  /** SSH public keys for the default user on VMs. @default [] */
  readonly sshAuthorizedKeys: readonly string[];
  /**
   * Node addresses of this tenant's VMs, a subset of `network.addressRanges`. Tenants must not
   * share addresses: capmox makes one IP pool per cluster. @default network.addressRanges
   */
  readonly addressRanges?: readonly IpRange[];
  /** Pod network inside the tenant cluster. @default "10.243.0.0/16" */
  readonly podCidr?: string;
  /** Service network inside the tenant cluster. @default "10.95.0.0/16" */
  readonly serviceCidr?: string;
  /** Proxmox isolation of this tenant (pool, VMID range, own token). @default - shared with the platform */
  readonly proxmox?: TenantProxmoxConfig;
}

export interface PlatformConfig {
  /** @default "cozystack-v0.37" */
  readonly profile: ProfileName;
  readonly proxmox: ProxmoxConfig;
  readonly network: NetworkConfig;
  readonly cozystack: CozystackConfig;
  readonly tenants: readonly TenantConfig[];
  /** Settings of the validation stages and the VM test. @default {} */
  readonly stages?: StagesConfig;
  /** CozyStack v1.x settings (profile cozystack-v1.6; src/config/cozystack-v1.ts). */
  readonly cozystackV1?: CozystackV1Config;
}

/** Settings of the validation stages (`npm run test:stage`) and the VM test (`npm run vm-test`). */
export interface StagesConfig {
  /**
   * Overrides of the timeouts table (src/stages/timeouts.ts), keyed like `vm.agent` or
   * `poll.task`: milliseconds, or a duration such as `90s`, `4m`, `500ms`. @default {}
   */
  readonly timeouts?: Readonly<Record<string, number | string>>;
}

/** One validation problem: where, what value, what is wrong. */
export interface ConfigIssue {
  /** Dotted path, e.g. `tenants[0].nodeGroups[1].memoryMiB`. */
  readonly path: string;
  readonly value: unknown;
  readonly message: string;
  /** A problem of the document itself (syntax, size, aliases, duplicate keys): no value to show. */
  readonly documentLevel?: true;
}

/** Where the folder of our packages is published, as a Flux source. */
export interface PackagesSourceConfig {
  /** `OCIRepository` (an OCI artifact, `oci://…`) or `GitRepository` (`https://…`, `ssh://…`). @default "OCIRepository" */
  readonly kind: "OCIRepository" | "GitRepository";
  readonly url: string;
  /** Tag of the artifact or of the Git repository. @default "latest" for an OCIRepository */
  readonly tag?: string;
  /** Branch of the Git repository (GitRepository only). @default "main" for a GitRepository without tag */
  readonly branch?: string;
  /** Folder inside the artifact or repository that holds `system/` and `apps/`. @default "/" */
  readonly path: string;
}

export interface CozystackV1Config {
  /** Variant of the `cozystack.cozystack-platform` Package (the two that can run the iaas bundle). @default "isp-full" */
  readonly variant: "isp-full" | "isp-full-generic";
  readonly source: PackagesSourceConfig;
  /** CozyStack v1.6.2 optional packages to install (`bundles.enabledPackages`). @default [] */
  readonly enabledPackages: readonly string[];
  /** CozyStack v1.6.2 packages to leave out besides KubeVirt's (`bundles.disabledPackages`). @default [] */
  readonly disabledPackages: readonly string[];
}
