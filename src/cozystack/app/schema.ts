/**
 * The values schema of the app chart: Helm enforces it as values.schema.json on every
 * install, upgrade, lint and template, and the CozystackResourceDefinition carries it as the
 * kind's openAPISchema. Errors name the field (`at '/nodeGroups/md0/minReplicas': …`).
 *
 * Rules the schema cannot say (memory a multiple of 8 MiB, min ≤ replicas ≤ max, CPUs a
 * multiple of sockets, name lengths) are checked by the templates with `fail`, naming the
 * field the same way.
 */
import type { PlatformConfig } from "../../config/types.js";
import { getProfile } from "../../versions/index.js";
import { defaultValues } from "./values.js";

export type JsonSchema = Record<string, unknown>;

const dnsLabel = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const groupName = "^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$";
/** Proxmox node, bridge, storage and pool names; also keeps hashed strings free of characters JSON encoders escape differently. */
const proxmoxName = "^[A-Za-z0-9][A-Za-z0-9_.-]*$";
const proxmoxTag = "^[A-Za-z0-9_][A-Za-z0-9_+.-]*$";
const octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const ipv4 = `^(${octet}\\.){3}${octet}$`;
const cidr = `^(${octet}\\.){3}${octet}/(3[0-2]|[12]?[0-9])$`;
const labelKey = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$";
const labelValue = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";
/** One line, no backslash: the key goes into cloud-init and into the template hash. */
const sshKey = "^[^\\\\\\x00-\\x1f]+$";
const quantity = "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

const str = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: "string", description, ...extra });
const int = (description: string, minimum: number, extra: JsonSchema = {}): JsonSchema => ({ type: "integer", description, minimum, ...extra });
const bool = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: "boolean", description, ...extra });
const list = (description: string, items: JsonSchema, extra: JsonSchema = {}): JsonSchema => ({ type: "array", description, items, ...extra });
/** An object whose fields are all known: a misspelt or KubeVirt-only field is an error, not silently ignored. */
const obj = (description: string, properties: Record<string, JsonSchema>, extra: JsonSchema = {}): JsonSchema => ({
  type: "object",
  description,
  additionalProperties: false,
  properties,
  ...extra,
});
const free = (description: string): JsonSchema => ({ type: "object", description, default: {}, "x-kubernetes-preserve-unknown-fields": true });

/** `vX.Y.Z` with a minor the profile's control-plane stack supports. */
function versionPattern(config: PlatformConfig): string {
  const { minMinor, maxMinor } = getProfile(config.profile).kubernetes;
  const minors = Array.from({ length: maxMinor - minMinor + 1 }, (_, i) => String(minMinor + i));
  return `^v1\\.(${minors.join("|")})\\.(0|[1-9][0-9]*)$`;
}

const cpResources = (component: string): JsonSchema =>
  obj(`Explicit CPU and memory of the ${component} (requests = limits). Empty: Kamaji's defaults.`, {
    cpu: { description: "CPU, a Kubernetes quantity (e.g. 500m, 2).", anyOf: [{ type: "integer", minimum: 0 }, { type: "string", pattern: quantity }], "x-kubernetes-int-or-string": true },
    memory: { description: "Memory, a Kubernetes quantity (e.g. 512Mi).", anyOf: [{ type: "integer", minimum: 0 }, { type: "string", pattern: quantity }], "x-kubernetes-int-or-string": true },
  }, { default: {} });

function controlPlaneSchema(): JsonSchema {
  return obj("Kamaji control plane: pods in the management cluster, exposed to the Proxmox VMs by a Service.", {
    replicas: int("Control-plane pods.", 1),
    serviceType: str("How the API server is exposed. The VMs are off the pod network: LoadBalancer (MetalLB on the VM network) is what they can reach.", {
      enum: ["LoadBalancer", "NodePort", "ClusterIP"],
    }),
    address: str("Fixed address of the LoadBalancer Service. Empty: assigned by the load balancer.", { pattern: `(${ipv4})|^$` }),
    dataStore: str("Kamaji DataStore for the etcd data. Empty: the namespace's `namespace.cozystack.io/etcd` annotation, else tenant-root.", {
      pattern: `(${dnsLabel})|^$`,
    }),
    apiServer: obj("API server.", { resources: cpResources("API server") }, { default: {} }),
    controllerManager: obj("Controller manager.", { resources: cpResources("controller manager") }, { default: {} }),
    scheduler: obj("Scheduler.", { resources: cpResources("scheduler") }, { default: {} }),
    konnectivity: obj("Konnectivity.", { server: obj("Konnectivity server.", { resources: cpResources("konnectivity server") }, { default: {} }) }, { default: {} }),
  });
}

function nodeGroupSchema(): JsonSchema {
  return obj("A group of identical worker VMs.", {
    replicas: int("VMs to run. Default: minReplicas, else 2.", 0),
    minReplicas: int("Lower bound for the cluster autoscaler. Default: replicas.", 0),
    maxReplicas: int("Upper bound for the cluster autoscaler. Default: replicas.", 0),
    resources: obj("Size of each VM; also the autoscaler's capacity annotations.", {
      cpu: { description: "vCPUs (sockets × cores), a whole number.", anyOf: [{ type: "integer", minimum: 1 }, { type: "string", pattern: "^[1-9][0-9]*$" }], "x-kubernetes-int-or-string": true },
      memory: str("Memory in Mi or Gi, a multiple of 8 MiB (capmox rejects others), e.g. 4Gi or 6144Mi.", { pattern: "^[1-9][0-9]*(Mi|Gi)$" }),
    }),
    sockets: int("CPU sockets; resources.cpu must be a multiple. Default 1.", 1),
    ephemeralStorage: str("Boot disk size in Gi (at least 5Gi and not smaller than the template's disk), e.g. 20Gi.", { pattern: "^([5-9]|[1-9][0-9]+)Gi$" }),
    roles: list("Node roles: label node-role.kubernetes.io/<role> on the nodes (set by Cluster API from the Machines).", { type: "string", pattern: dnsLabel }, { uniqueItems: true }),
    labels: {
      type: "object",
      description: "More node labels. node-role.kubernetes.io/, node-restriction.kubernetes.io/ and node.cluster.x-k8s.io/ labels go on the Machines; others on the kubelet's --node-labels.",
      // patternProperties rather than propertyNames: Helm then names the field of a bad key
      patternProperties: { [labelKey]: { type: "string", pattern: labelValue, maxLength: 63 } },
      additionalProperties: false,
    },
    tags: list("Proxmox tags of the VMs. A tag the template lacks (capi-<cluster>-<group>) is always added.", { type: "string", pattern: proxmoxTag }, { uniqueItems: true }),
    allowedNodes: list("Proxmox nodes for this group's VMs. Default: proxmox.allowedNodes.", { type: "string", pattern: proxmoxName }, { minItems: 1, uniqueItems: true }),
    guestAgentChecks: bool("capmox waits for the QEMU guest agent and cloud-init's status. Default true; false only for a template OS without the agent."),
  });
}

function proxmoxSchema(): JsonSchema {
  return obj("Where and how capmox creates the VMs. Defaults are the platform's settings.", {
    template: obj(
      "The VM template to clone: kind id (templateId on sourceNode) or kind tags (a template with exactly these tags).",
      {
        kind: str("id or tags.", { enum: ["id", "tags"] }),
        templateId: int("VM id of the template (kind id).", 100),
        sourceNode: str("Node that holds the template (kind id).", { pattern: proxmoxName }),
        tags: list("Tags of the template (kind tags), matched exactly.", { type: "string", pattern: proxmoxTag }, { minItems: 1 }),
      },
      {
        required: ["kind"],
        allOf: [
          { if: { properties: { kind: { const: "id" } } }, then: { required: ["templateId", "sourceNode"] } },
          { if: { properties: { kind: { const: "tags" } } }, then: { required: ["tags"] } },
        ],
      },
    ),
    allowedNodes: list("Proxmox nodes VMs may be placed on.", { type: "string", pattern: proxmoxName }, { minItems: 1, uniqueItems: true }),
    bridge: str("Bridge of the VMs' NIC.", { pattern: proxmoxName }),
    vlan: int("VLAN tag of the NIC. Absent: untagged.", 1, { maximum: 4094 }),
    storage: str("Storage of full clones; also the storage of the tenant's Proxmox CSI StorageClass.", { pattern: proxmoxName }),
    format: str("Disk format of full clones. Absent: the storage's default.", { enum: ["raw", "qcow2", "vmdk"] }),
    fullClone: bool("Full clones (linked clones cannot take storage or format)."),
    pool: str("Proxmox pool of the VMs.", { pattern: proxmoxName }),
    bootDevice: str("The template's boot disk, resized to ephemeralStorage.", { pattern: "^(scsi|virtio|sata|ide)[0-9]+$" }),
    url: str("Proxmox API URL for the tenant's CCM and CSI plugin, e.g. https://pve.example.com:8006.", { pattern: "^https?://[^\\s/]+(:[0-9]+)?/?$" }),
    insecure: bool("Skip TLS verification in the tenant's CCM and CSI plugin."),
    region: str("Proxmox region (topology.kubernetes.io/region) for the CCM and CSI plugin.", { pattern: proxmoxName }),
  });
}

function networkSchema(): JsonSchema {
  const range = obj("Addresses from start to end, inclusive.", { start: str("First address.", { pattern: ipv4 }), end: str("Last address.", { pattern: ipv4 }) }, { required: ["start", "end"] });
  return obj("Node network: capmox makes an IP pool of addressRanges for this cluster's VMs. Clusters must not share addresses.", {
    addressRanges: list("Node addresses of this cluster.", range, { minItems: 1 }),
    prefix: int("Prefix length of the node subnet.", 1, { maximum: 32 }),
    gateway: str("Default gateway of the VMs.", { pattern: ipv4 }),
    dnsServers: list("DNS servers of the VMs.", { type: "string", pattern: ipv4 }, { minItems: 1 }),
  });
}

function addonsSchema(): JsonSchema {
  return obj("Components Flux installs into the tenant cluster (HelmReleases with the tenant's kubeconfig).", {
    cilium: obj("Cilium, the pod network (always installed).", { valuesOverride: free("Values merged over the generated ones.") }),
    proxmoxCcm: obj("Proxmox cloud controller manager (always installed): initialises nodes, sets providerID and topology labels.", {
      valuesOverride: free("Values merged over the generated ones."),
    }),
    proxmoxCsi: obj("Proxmox CSI plugin (always installed): volumes on Proxmox storage, StorageClass storageClass.", {
      valuesOverride: free("Values merged over the generated ones."),
    }),
    certManager: obj("cert-manager.", { enabled: bool("Install cert-manager."), valuesOverride: free("Values merged over the generated ones.") }),
    gatewayAPI: obj("Gateway API CRDs.", { enabled: bool("Install the Gateway API CRDs.") }),
    fluxcd: obj("Flux CD.", { enabled: bool("Install Flux."), valuesOverride: free("Values merged over the generated ones.") }),
  });
}

/** Adds each top-level default from values.yaml to the schema (editors and the dashboard show them). */
function withDefaults(schema: JsonSchema, values: Record<string, unknown>): JsonSchema {
  const props = schema.properties as Record<string, JsonSchema>;
  for (const [key, value] of Object.entries(values)) {
    const prop = props[key];
    if (prop) props[key] = { ...prop, default: value };
  }
  return schema;
}

/** The values schema for a platform: Proxmox defaults and the Kubernetes versions of its profile. */
export function valuesSchema(config: PlatformConfig): JsonSchema {
  const schema: JsonSchema = {
    title: "Kubernetes on Proxmox VE",
    type: "object",
    // values = the custom resource's spec: a misspelt or KubeVirt-only top-level field
    // (upstream's `host`) is an error too, not silently ignored.
    additionalProperties: false,
    properties: {
      version: str("Kubernetes version, vMAJOR.MINOR.PATCH.", { pattern: versionPattern(config) }),
      storageClass: str("Name of the default StorageClass the Proxmox CSI plugin creates in the tenant cluster.", { pattern: dnsLabel }),
      controlPlane: controlPlaneSchema(),
      nodeGroups: {
        type: "object",
        description: "Worker node groups by name (lower-case letters, digits and '-', at most 40). Not set: one group md0 with the defaults.",
        patternProperties: { [groupName]: nodeGroupSchema() },
        additionalProperties: false,
      },
      network: networkSchema(),
      proxmox: proxmoxSchema(),
      clusterNetwork: obj("Networks inside the tenant cluster.", {
        podCidr: str("Pod network.", { pattern: cidr }),
        serviceCidr: str("Service network.", { pattern: cidr }),
      }),
      sshAuthorizedKeys: list("SSH public keys of the VMs' user ubuntu.", { type: "string", pattern: sshKey }),
      addons: addonsSchema(),
    },
  };
  return withDefaults(schema, defaultValues(config));
}
