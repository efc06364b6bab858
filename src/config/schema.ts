/**
 * JSON Schema (draft-07) of platform.yaml as the user writes it. It checks the shape of each
 * field (types, patterns, bounds, unknown keys); cross-field rules live in validate.ts. The
 * same object is written to `dist/platform.schema.json` for editors, and its descriptions
 * become the comments of `--print-default-config`.
 *
 * `x-hint` is our own annotation: the plain-words form of a pattern, used in error messages.
 */
import { profileNames } from "../versions/index.js";
import { cozystackV1Schema } from "./cozystack-v1.js";
import { defaults } from "./defaults.js";
import { lengths, numbers } from "./limits.js";

type Schema = Record<string, unknown>;

const octet = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const ipv4 = `${octet}\\.${octet}\\.${octet}\\.${octet}`;

const ipv4Address: Schema = { type: "string", pattern: `^${ipv4}$`, "x-hint": "an IPv4 address like 10.0.0.1" };
const cidr: Schema = { type: "string", pattern: `^${ipv4}/(3[0-2]|[12]?\\d)$`, "x-hint": "an IPv4 CIDR like 10.244.0.0/16" };
// DNS-1123 label and subdomain, each label at most 63 characters
const label = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?";
const subdomain = `${label}(\\.${label})*`;

const dnsLabel: Schema = {
  type: "string",
  maxLength: lengths.dnsLabel,
  pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
  "x-hint": "a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit",
};
const nodeName: Schema = { ...dnsLabel, pattern: "^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$", "x-hint": "a Proxmox node name" };
const storageId: Schema = {
  type: "string",
  maxLength: lengths.pveId,
  pattern: "^[a-z][a-z0-9_.-]*[a-z0-9]$",
  "x-hint": "a Proxmox storage id like local-lvm",
};
const pveTag: Schema = {
  type: "string",
  maxLength: lengths.pveId,
  pattern: "^[A-Za-z0-9_][A-Za-z0-9_+.-]*$",
  "x-hint": "a Proxmox tag: letters, digits, '_', '-', '+', '.'",
};
// A duration as CAPI prints them (Go's time.Duration, whole units only): 5m, 90s, 1h30m
const duration: Schema = {
  type: "string",
  maxLength: 32,
  pattern: "^([0-9]+h([0-9]+m)?([0-9]+s)?|[0-9]+m([0-9]+s)?|[0-9]+s)$",
  "x-hint": "a duration like 5m, 90s or 1h30m",
};
// A count or a share of a node group's Machines, as CAPI's maxUnhealthy takes it
const countOrPercent: Schema = {
  type: "string",
  maxLength: 10,
  pattern: "^([0-9]+|([0-9]|[1-9][0-9]|100)%)$",
  "x-hint": "a count like 1 or a percentage like 40%",
};
const nodeList: Schema = { type: "array", items: nodeName, uniqueItems: true, minItems: 1 };
const labelMap: Schema = {
  type: "object",
  propertyNames: {
    // an optional DNS subdomain prefix (at most 253) and '/', then a name of at most 63
    maxLength: lengths.dnsName + 1 + lengths.dnsLabel,
    pattern: `^((?=[^/]{1,${lengths.dnsName}}/)${subdomain}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`,
    "x-hint": "a Kubernetes label key like example.com/role",
  },
  additionalProperties: {
    type: "string",
    maxLength: lengths.dnsLabel,
    pattern: "^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$",
    "x-hint": "a Kubernetes label value",
  },
};

function object(properties: Record<string, Schema>, required: string[] = []): Schema {
  return { type: "object", additionalProperties: false, required, properties };
}

const ipRange = object(
  {
    start: { ...ipv4Address, description: "First address, inclusive." },
    end: { ...ipv4Address, description: "Last address, inclusive." },
  },
  ["start", "end"],
);

const tls = object({
  caFile: { type: "string", minLength: 1, maxLength: lengths.path, description: "PEM CA bundle that signed the Proxmox certificate." },
  fingerprint: {
    type: "string",
    pattern: "^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$",
    "x-hint": "a SHA-256 fingerprint: 32 hex pairs separated by ':'",
    description: "SHA-256 fingerprint of the Proxmox certificate (`pvenode cert info`).",
  },
  insecure: { type: "boolean", default: false, description: "Skip certificate verification. Only when you mean it." },
});

const template = object({
  templateId: { type: "integer", minimum: 100, maximum: 999999999, description: "VMID of the template (with sourceNode)." },
  sourceNode: { ...nodeName, description: "Node that holds the template (with templateId)." },
  tags: { type: "array", items: pveTag, minItems: 1, uniqueItems: true, description: "Find the template by these tags instead." },
  matchPolicy: {
    enum: ["exact", "uniqueSubset", "bestSubset"],
    default: defaults.matchPolicy,
    description: "How the tags must match (capmox templateSelector).",
  },
});

const tokenId: Schema = {
  type: "string",
  maxLength: lengths.pveUserId + 1 + lengths.pveTokenName,
  // user@realm is PVE's userid (3 to 64 characters), the realm 2 to 32, the token name 2 to 64
  pattern: `^(?=[^!]{3,${lengths.pveUserId}}!)[^\\s:/@!=]+@[A-Za-z][A-Za-z0-9._-]{1,${lengths.pveRealm - 1}}![A-Za-z][A-Za-z0-9._-]{1,${lengths.pveTokenName - 1}}$`,
  "x-hint": `an API token id like user@realm!name (without the secret; user@realm at most ${lengths.pveUserId} characters, realm at most ${lengths.pveRealm}, name at most ${lengths.pveTokenName})`,
};

const secretSource: Schema = object({
  env: { type: "string", maxLength: lengths.envName, pattern: "^[A-Za-z_][A-Za-z0-9_]*$", "x-hint": "an environment variable name" },
  file: { type: "string", minLength: 1, maxLength: lengths.path },
});

const poolId: Schema = { type: "string", maxLength: lengths.pveId, pattern: "^[A-Za-z0-9_-]+$", "x-hint": "a Proxmox pool id" };

// PVE's VMIDs: 100 to 999999999
const vmIdRange: Schema = object(
  {
    start: { type: "integer", minimum: 100, maximum: 999999999, description: "First VMID, inclusive." },
    end: { type: "integer", minimum: 100, maximum: 999999999, description: "Last VMID, inclusive." },
  },
  ["start", "end"],
);

const proxmox = object(
  {
    url: { type: "string", maxLength: lengths.url, description: "Base URL of the Proxmox VE API, e.g. https://pve.example.com:8006 (no /api2/json)." },
    tokenId: { ...tokenId, description: "API token id `user@realm!name`." },
    secret: { ...secretSource, description: `Where the token secret comes from: {env: NAME} or {file: PATH}; never inline. Default: env ${defaults.secretEnv}.` },
    tls: { ...tls, description: "TLS verification: at most one of caFile, fingerprint, insecure. Default: system CAs." },
    allowedNodes: { ...nodeList, description: "Nodes VMs may be placed on." },
    template: { ...template, description: "VM template: templateId + sourceNode, or tags (+ matchPolicy). Never both." },
    talosTemplate: {
      ...template,
      description: "The Talos template (made from Talos's nocloud image) for node groups with bootstrap: talos in Kubernetes objects: templateId + sourceNode, or tags. Checked by stage 2.",
    },
    bridge: {
      type: "string",
      maxLength: lengths.interfaceName,
      pattern: "^[A-Za-z][A-Za-z0-9_.-]*$",
      "x-hint": "a bridge name like vmbr0",
      default: defaults.bridge,
      description: "Bridge for VM NICs.",
    },
    vlan: { type: "integer", minimum: 1, maximum: 4094, description: "VLAN tag on the bridge, if any." },
    diskStorage: { ...storageId, default: defaults.diskStorage, description: "Storage for VM disks (full clones)." },
    isoStorage: { ...storageId, default: defaults.isoStorage, description: "Storage with `iso` content for capmox's cloud-init ISO." },
    pool: { ...poolId, description: "Proxmox pool for created VMs." },
    region: { ...dnsLabel, default: defaults.region, description: "Region name for CSI/CCM topology labels." },
    bootDevice: {
      type: "string",
      // the buses' slots in PVE: scsi0-30, virtio0-15, sata0-5, ide0-3
      pattern: "^(scsi([12]?\\d|30)|virtio(1[0-5]|\\d)|sata[0-5]|ide[0-3])$",
      "x-hint": "a disk like scsi0 (scsi0-30, virtio0-15, sata0-5, ide0-3)",
      default: defaults.bootDevice,
      description: "The template's boot disk that capmox resizes.",
    },
    fullClone: { type: "boolean", default: defaults.fullClone, description: "Full clones; linked clones take no storage or format." },
    diskFormat: { enum: ["raw", "qcow2", "vmdk"], description: "Disk format of full clones." },
    managementVmIdRange: { ...vmIdRange, description: "VMIDs of the management cluster's own VMs: no tenant's vmIdRange may overlap them." },
  },
  ["url", "tokenId", "allowedNodes", "template"],
);

const network = object(
  {
    addressRanges: { type: "array", items: ipRange, minItems: 1, description: "Address ranges handed out to VMs." },
    prefix: { type: "integer", minimum: 1, maximum: 32, description: "Prefix length of the VM subnet." },
    gateway: { ...ipv4Address, description: "Default gateway of the VM subnet." },
    dnsServers: { type: "array", items: ipv4Address, minItems: 1, description: "DNS servers for the VMs." },
  },
  ["addressRanges", "prefix", "gateway", "dnsServers"],
);

const releaseName: Schema = { ...dnsLabel, maxLength: lengths.helmRelease, "x-hint": "a release name of the bundle" };

const cozystack = object(
  {
    rootHost: {
      type: "string",
      maxLength: lengths.dnsName,
      pattern: `^${subdomain}$`,
      "x-hint": "a DNS name like example.org (labels of at most 63 characters)",
      description: "`root-host` of the cozystack ConfigMap.",
    },
    apiServerEndpoint: { type: "string", maxLength: lengths.url, description: "`api-server-endpoint` of the cozystack ConfigMap, e.g. https://10.0.0.10:6443." },
    podCidr: { ...cidr, default: defaults.cozystack.podCidr, description: "`ipv4-pod-cidr`." },
    podGateway: { ...ipv4Address, default: defaults.cozystack.podGateway, description: "`ipv4-pod-gateway`." },
    serviceCidr: { ...cidr, default: defaults.cozystack.serviceCidr, description: "`ipv4-svc-cidr`." },
    joinCidr: { ...cidr, default: defaults.cozystack.joinCidr, description: "`ipv4-join-cidr`." },
    bundleEnable: { type: "array", items: releaseName, uniqueItems: true, default: [], description: "Optional releases to install." },
    bundleDisable: { type: "array", items: releaseName, uniqueItems: true, default: [], description: "Releases to leave out." },
    values: {
      type: "object",
      propertyNames: releaseName,
      additionalProperties: { type: "object" },
      default: {},
      description: "Per-release value overrides (`values-<name>`).",
    },
  },
  ["rootHost", "apiServerEndpoint"],
);

const controlPlane = object({
  replicas: { type: "integer", minimum: 1, maximum: 9, default: defaults.controlPlaneReplicas, description: "Kamaji control-plane pods." },
  serviceType: {
    enum: ["LoadBalancer", "NodePort", "ClusterIP"],
    default: defaults.serviceType,
    description: "How the control plane is exposed.",
  },
  address: { ...ipv4Address, description: "Fixed address of the control-plane service, if any." },
  dataStore: { ...dnsLabel, default: defaults.dataStore, description: "Kamaji DataStore for the tenant's etcd data." },
});

const nodeGroup = object(
  {
    name: { ...dnsLabel, maxLength: 20, description: "Node group name." },
    replicas: { type: "integer", minimum: 0, maximum: numbers.int32, default: defaults.nodeGroupReplicas, description: "Number of VMs." },
    minReplicas: { type: "integer", minimum: 0, maximum: numbers.int32, description: "Autoscaler lower bound. Default: replicas." },
    maxReplicas: { type: "integer", minimum: 0, maximum: numbers.int32, description: "Autoscaler upper bound. Default: replicas." },
    sockets: { type: "integer", minimum: 1, maximum: 4, default: defaults.sockets, description: "CPU sockets per VM." },
    cores: { type: "integer", minimum: 1, maximum: 512, default: defaults.cores, description: "Cores per socket." },
    memoryMiB: {
      type: "integer",
      minimum: 512,
      maximum: numbers.memoryMiB,
      multipleOf: 8,
      default: defaults.memoryMiB,
      description: "Memory per VM in MiB, a multiple of 8.",
    },
    diskGiB: { type: "integer", minimum: 5, maximum: 65536, default: defaults.diskGiB, description: "Boot disk size in GiB." },
    tags: { type: "array", items: pveTag, uniqueItems: true, default: [], description: "Extra Proxmox tags for the VMs." },
    allowedNodes: { ...nodeList, description: "Nodes for this group (a subset of proxmox.allowedNodes)." },
    labels: { ...labelMap, default: {}, description: "Kubernetes labels on the nodes." },
    guestAgentChecks: {
      type: "boolean",
      default: true,
      description: "capmox waits for the QEMU guest agent and cloud-init's status; false only for a template OS without the agent.",
    },
    nodeStartupTimeout: {
      ...duration,
      default: defaults.nodeStartupTimeout,
      description: "MachineHealthCheck: how long a VM may take from creation to a joined Node before it is replaced (CozyStack's name).",
    },
    unhealthyTimeout: {
      ...duration,
      default: defaults.unhealthyTimeout,
      description: "MachineHealthCheck: how long a Node may be NotReady or Unknown before its VM is replaced.",
    },
    maxUnhealthy: {
      ...countOrPercent,
      description: "MachineHealthCheck: stop replacing VMs when more than this many are unhealthy (CozyStack's name). Default: 40%, but at least one Machine of minReplicas.",
    },
  },
  ["name"],
);

const tenant = object(
  {
    name: {
      type: "string",
      maxLength: 40,
      pattern: "^[a-z]([-a-z0-9]*[a-z0-9])?$",
      "x-hint": "a DNS-1035 label (it names the Kamaji Service): lower-case letters, digits and '-', starting with a letter",
      description: "Tenant cluster name.",
    },
    namespace: { ...dnsLabel, description: "Namespace of the CAPI objects. Default: tenant-<name>." },
    version: {
      type: "string",
      maxLength: lengths.version,
      pattern: "^v\\d+\\.\\d+\\.\\d+$",
      "x-hint": "a Kubernetes version like v1.32.6",
      description: "Kubernetes version of the tenant cluster.",
    },
    controlPlane: { ...controlPlane, description: "Kamaji control plane." },
    nodeGroups: { type: "array", items: nodeGroup, minItems: 1, description: "Worker node groups." },
    sshAuthorizedKeys: {
      type: "array",
      items: {
        type: "string",
        maxLength: lengths.sshKey,
        pattern: "^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\\.com) [A-Za-z0-9+/]+={0,3}( .*)?$",
        "x-hint": "an OpenSSH public key line like 'ssh-ed25519 AAAA… comment'",
      },
      default: [],
      description: "SSH public keys for the VMs' default user.",
    },
    addressRanges: { type: "array", items: ipRange, minItems: 1, description: "This tenant's node addresses. Default: network.addressRanges." },
    podCidr: { ...cidr, default: defaults.podCidr, description: "Pod network inside the tenant cluster." },
    serviceCidr: { ...cidr, default: defaults.serviceCidr, description: "Service network inside the tenant cluster." },
    proxmox: {
      ...object({
        pool: { ...poolId, description: "Proxmox pool of this tenant's VMs. Default: proxmox.pool." },
        vmIdRange: {
          ...vmIdRange,
          description: "VMIDs of this tenant's VMs (capmox vmIDRange): not overlapping another tenant's or proxmox.managementVmIdRange, at least each group's maxReplicas + 1.",
        },
        tokenId: { ...tokenId, description: "The tenant's own privilege-separated API token. Default: proxmox.tokenId (shared: not isolated)." },
        secret: { ...secretSource, description: "Where the tenant token's secret comes from: {env: NAME} or {file: PATH}; required with tokenId." },
      }),
      description: "This tenant's isolation on Proxmox: its own pool, VMID range and API token.",
    },
  },
  ["name", "version"],
);

/** The JSON Schema of platform.yaml. */
export function configJsonSchema(): Schema {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://cozy-proxmox.local/platform.schema.json",
    title: "CozyStack on Proxmox VE platform description",
    ...object(
      {
        profile: { enum: [...profileNames], default: defaults.profile, description: "Versions profile." },
        proxmox: { ...proxmox, description: "The Proxmox VE cluster." },
        network: { ...network, description: "The node network VMs get addresses from." },
        cozystack: { ...cozystack, description: "CozyStack installer settings (the cozystack ConfigMap)." },
        cozystackV1: cozystackV1Schema,
        tenants: { type: "array", items: tenant, default: [], description: "Tenant clusters." },
        stages: {
          ...object({
            timeouts: {
              type: "object",
              propertyNames: { maxLength: lengths.timeoutKey, pattern: "^[a-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*)*$", "x-hint": "a timeout name like vm.agent" },
              additionalProperties: {
                type: ["number", "string"],
                exclusiveMinimum: 0,
                maximum: numbers.timeoutMs,
                maxLength: lengths.duration,
                pattern: "^[0-9]+(ms|s|m|h)?$",
                "x-hint": "milliseconds, or a duration like 90s, 4m, 500ms",
              },
              description: "Overrides of the stages' timeouts table, keyed like `vm.agent`: milliseconds or a duration like `90s`.",
            },
          }),
          description: "Settings of the validation stages and the VM test.",
        },
      },
      ["proxmox", "network", "cozystack"],
    ),
  };
}
